"""Build the server-side filters: which logs and metrics a collection asks the APIs for.

Usage:
  1. ``log_sources(project, resources, pushdown, signatures)`` returns the Logging sources
     (Cloud Run revision logs, Cloud Run audit logs, Cloud SQL logs, VPC connector logs), each
     with a scope (resource type, log names, configured resources) and, with pushdown, a
     candidate restriction. ``source.filter(ranges)`` adds explicit timestamp bounds: without
     them the client library silently adds a 24 h limit.
  2. ``context_source(...)`` is the stdout/stderr around errors, pulled after the candidates.
  3. ``metric_queries(project, resources)`` returns one Monitoring filter per metric type.

Pushdown: the quota is 60 entries.list calls per minute, and a busy day is mostly healthy
request logs. The candidate restriction keeps what an investigation reads (WARNING and worse,
5xx responses, platform system logs, DEFAULT-severity failure lines, entries with the
structured error fields signatures read, and every signature's own clause from the catalog) and
leaves request volumes to Monitoring's request_count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from forensics.collectors.packing import MAX_FILTER_CHARS, HasLoggingFilter, pack
from forensics.config import Resources
from forensics.errors import ConfigError

__all__ = [
    "MAX_FILTER_CHARS",
    "HasLoggingFilter",
    "LogSource",
    "MetricQuery",
    "catalog_signatures",
    "context_source",
    "log_sources",
    "metric_queries",
    "rfc3339",
]


Range = tuple[datetime, datetime]

RUN_LOGS = (
    "run.googleapis.com/stdout",
    "run.googleapis.com/stderr",
    "run.googleapis.com/requests",
    "run.googleapis.com/varlog/system",
)
AUDIT_LOGS = ("cloudaudit.googleapis.com/activity", "cloudaudit.googleapis.com/system_event")
POSTGRES_LOG = "cloudsql.googleapis.com/postgres.log"

# Failure words of plain stdout/stderr lines, which Cloud Run stores with severity DEFAULT.
# ":" ignores case, so "Error" also finds "ERROR" and "error". Not "timeout": config dumps print
# pool_timeout=30 all day (real lines say "timed out" when something did).
DEFAULT_SEVERITY_TERMS = (
    "Traceback",
    "Error",
    "Exception",
    "exited with code",
    "Worker failed to boot",
    "failed",
    "timed out",
    "refused",
    "FATAL",
    "CRITICAL",
)
# PostgreSQL puts the level in the text; Cloud SQL's severity mapping is not documented.
POSTGRES_TERMS = (
    "FATAL:",
    "PANIC:",
    "ERROR:",
    "too many clients",
    "remaining connection slots",
    "terminating connection",
    "database system is",
)


def catalog_signatures() -> list[HasLoggingFilter] | None:
    """The signature catalog's entries when the catalog is installed, else None."""
    try:
        from forensics.signatures.catalog import load_catalog
    except ImportError:
        return None
    return list(load_catalog().signatures)


def rfc3339(at: datetime) -> str:
    """A UTC time as the Logging API wants it: 2025-09-15T10:00:00Z (microseconds if any)."""
    text = at.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any(field: str, values: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{field}={_q(v)}" for v in values) + ")"


def _grouped(text: str) -> bool:
    """True when ``text`` is one parenthesised group: "(a) OR (b)" is not, "((a) OR b)" is."""
    if not text.startswith("(") or not text.endswith(")"):
        return False
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def _all(*clauses: str | None) -> str:
    """AND the clauses, parenthesising any that is not a single comparison or group."""
    return " AND ".join(c if _grouped(c) or " " not in c else f"({c})" for c in clauses if c)


def log_name(project: str, log_id: str) -> str:
    """projects/P/logs/ID with the id URL-encoded, as logName is stored and compared."""
    return f"projects/{project}/logs/{quote(log_id, safe='')}"


def time_clause(ranges: Sequence[Range]) -> str:
    if not ranges:
        raise ValueError("a pull needs at least one time range")
    parts = [f"(timestamp>={_q(rfc3339(a))} AND timestamp<{_q(rfc3339(b))})" for a, b in ranges]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class LogSource:
    """One Logging pull target: a scope and, with pushdown, a candidate restriction."""

    key: str  # run, run-audit, cloudsql, connector, run-context
    title: str
    scope: str
    candidates: str | None = None

    @property
    def base(self) -> str:
        """The filter without time bounds."""
        return _all(self.scope, self.candidates)

    @property
    def scope_hash(self) -> str:
        return short_hash(self.base)

    def filter(self, ranges: Sequence[Range], received_since: datetime | None = None) -> str:
        """The filter for entries timestamped in ``ranges`` (and, when given, received by
        Cloud Logging at or after ``received_since``: the late-arrival pull)."""
        received = f"receiveTimestamp>={_q(rfc3339(received_since))}" if received_since else None
        text = _all(self.base, time_clause(ranges), received)
        if len(text) > MAX_FILTER_CHARS:
            raise ConfigError(
                f"the {self.title} filter is {len(text):,} characters, over the API's "
                f"{MAX_FILTER_CHARS:,}: shorten the signatures' logging filters, or collect "
                "without pushdown (--full)"
            )
        return text


def _text_terms(terms: Sequence[str], fields: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{f}:{_q(t)}" for t in terms for f in fields) + ")"


def run_candidates(project: str) -> str:
    """What of the Cloud Run revision logs is worth pulling: failures and platform events."""
    # imported here: the signatures package loads DuckDB, which `--help` must not
    from forensics.signatures.logfilter import error_fields_clause, other_text_clause

    default_lines = _all(
        "severity=DEFAULT",
        _text_terms(DEFAULT_SEVERITY_TERMS, ("textPayload", "jsonPayload.message")),
    )
    requests = log_name(project, "run.googleapis.com/requests")
    clauses = [
        f"logName={_q(log_name(project, 'run.googleapis.com/varlog/system'))}",
        # Request logs are WARNING for any 4xx (404s, 403s): their volume is request_count's
        # job. A request log comes in for a 5xx, or a 429 (no instance available).
        f"(severity>=WARNING AND NOT logName={_q(requests)})",
        "httpRequest.status>=500",
        "httpRequest.status=429",
        f"({default_lines})",
        # a failure a structured logger keeps in `error`/`err.message`, beside a neutral `msg`
        error_fields_clause(),
        # a logger that writes no severity and its text under `msg`, `event`, ... (zap, pino,
        # structlog): the signatures' clauses read the usual message fields only
        other_text_clause(),
    ]
    return "(" + " OR ".join(clauses) + ")"


def _services(resources: Resources) -> str | None:
    if not resources.services:
        return None  # no services configured: every Cloud Run service of the project
    return _any("resource.labels.service_name", resources.services)


def log_sources(
    project: str,
    resources: Resources,
    *,
    pushdown: bool,
    signatures: Sequence[HasLoggingFilter] | None = None,
) -> list[LogSource]:
    """The Logging sources of a collection, in pull order."""
    services = _services(resources)
    run_logs = _any("logName", [log_name(project, i) for i in RUN_LOGS])
    audit = _any("logName", [log_name(project, i) for i in AUDIT_LOGS])
    databases = [f"{project}:{i}" for i in resources.sql_instances]
    sql_scope = _any("resource.labels.database_id", databases) if databases else None
    sql_logs = _any("logName", [log_name(project, POSTGRES_LOG), log_name(project, AUDIT_LOGS[0])])
    connector_scope = (
        "("
        + " OR ".join(
            f"resource.labels.connector_name={_q(c)} OR "
            f"protoPayload.resourceName:{_q('/connectors/' + c)}"
            for c in resources.connectors
        )
        + ")"
        if resources.connectors
        else None
    )
    sql_candidates = (
        "("
        + " OR ".join(
            [
                f"logName={_q(log_name(project, AUDIT_LOGS[0]))}",
                "severity>=WARNING",
                _text_terms(POSTGRES_TERMS, ("textPayload",)),
            ]
        )
        + ")"
    )
    run_scope = _all('resource.type="cloud_run_revision"', run_logs, services)
    if pushdown:
        parts = pack(run_scope, run_candidates(project), signatures or ())
        # Split filters pull as run, run~2, ...: each its own checkpoints and gaps.
        keys = ["run", *(f"run~{i}" for i in range(2, len(parts) + 1))]
        runs = [
            LogSource(k, "Cloud Run revision logs", run_scope, c)
            for k, c in zip(keys, parts, strict=True)
        ]
    else:
        runs = [LogSource("run", "Cloud Run revision logs", run_scope)]
    return [
        *runs,
        LogSource(
            "run-audit",
            "Cloud Run audit logs",
            _all('resource.type="cloud_run_revision"', audit, services),
        ),
        LogSource(
            "cloudsql",
            "Cloud SQL logs",
            _all('resource.type="cloudsql_database"', sql_logs, sql_scope),
            sql_candidates if pushdown else None,
        ),
        LogSource(
            "connector",
            "VPC Access connector logs",
            _all(
                '(resource.type="vpc_access_connector" OR '
                'protoPayload.serviceName="vpcaccess.googleapis.com")',
                connector_scope,
            ),
        ),
    ]


def context_source(project: str, resources: Resources) -> LogSource:
    """stdout/stderr lines around errors that the built-in candidates left out.

    Lines a signature clause already pulled may come again; the store keeps them once.
    """
    services = _services(resources)
    logs = _any("logName", [log_name(project, i) for i in RUN_LOGS[:2]])
    return LogSource(
        "run-context",
        "Cloud Run stdout/stderr around errors",
        _all('resource.type="cloud_run_revision"', logs, services),
        f"NOT {run_candidates(project)}",
    )


@dataclass(frozen=True)
class MetricQuery:
    """One Monitoring pull: a metric type on a resource type, for the configured resources."""

    metric_type: str
    resource_type: str
    filter: str

    @property
    def key(self) -> str:
        return self.metric_type


# (metric type, resource type): the list, see gcp-wire-facts §5-6 for kinds and units.
METRICS: tuple[tuple[str, str], ...] = (
    ("run.googleapis.com/container/memory/utilizations", "cloud_run_revision"),
    ("run.googleapis.com/container/cpu/utilizations", "cloud_run_revision"),
    ("run.googleapis.com/request_count", "cloud_run_revision"),
    ("run.googleapis.com/container/instance_count", "cloud_run_revision"),
    ("run.googleapis.com/container/startup_latencies", "cloud_run_revision"),
    ("cloudsql.googleapis.com/database/postgresql/num_backends", "cloudsql_database"),
    ("cloudsql.googleapis.com/database/cpu/utilization", "cloudsql_database"),
    ("cloudsql.googleapis.com/database/memory/utilization", "cloudsql_database"),
    ("cloudsql.googleapis.com/database/up", "cloudsql_database"),
    ("vpcaccess.googleapis.com/connector/cpu/utilizations", "vpc_access_connector"),
    ("vpcaccess.googleapis.com/connector/instances", "vpc_access_connector"),
    ("vpcaccess.googleapis.com/connector/sent_bytes_count", "vpc_access_connector"),
    ("vpcaccess.googleapis.com/connector/received_bytes_count", "vpc_access_connector"),
)


def metric_queries(project: str, resources: Resources) -> list[MetricQuery]:
    """One filter per metric type, restricted to the configured resources."""
    by_type = {
        "cloud_run_revision": ("service_name", list(resources.services)),
        "cloudsql_database": ("database_id", [f"{project}:{i}" for i in resources.sql_instances]),
        "vpc_access_connector": ("connector_name", list(resources.connectors)),
    }
    out = []
    for metric_type, resource_type in METRICS:
        label, names = by_type[resource_type]
        text = f"metric.type = {_q(metric_type)} AND resource.type = {_q(resource_type)}"
        if names:
            text += (
                " AND (" + " OR ".join(f"resource.labels.{label} = {_q(n)}" for n in names) + ")"
            )
        out.append(MetricQuery(metric_type, resource_type, text))
    return out
