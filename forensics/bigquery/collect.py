"""``collect --bigquery``: classify a window inside BigQuery and bring home only what matters.

Usage:
  1. ``request = BigQueryRequest(parse_source(text), window, billing_project, ...)``.
  2. ``explain_bigquery(client, request)`` returns both statements and their dry-run bytes;
     ``collect_bigquery(store, request, client=client)`` runs them.

Two query jobs per window, each over the mapping view (``forensics.bigquery.source``):

* entries: the catalog's classification (``classification_sql`` in the BigQuery dialect) and
  the miner's error test pick the matched entries and the unknown-error candidates, at most
  ``per_minute`` whole entries per signature (or template), service and minute; the Cloud Run
  stdout/stderr lines of the same instance within ``context_seconds`` of a kept one come with
  them (tracebacks split over entries come from one instance), as many per instance and
  minute. Each comes back whole and is rebuilt into its LogEntry JSON, then ingested like any
  other source, so the local stages
  (classification included: it has one owner) run on it unchanged. BigQuery's primary
  signature for each matched entry is kept to check that the local classification agrees.
* counts: entries per minute, service, severity and HTTP status, into ``minute_counts``.

The window is recorded in ``collect_checkpoints`` under the source's key: a window already
collected is skipped, and one that fails (cost guard, permissions, timeout) is a data gap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.exceptions import GoogleAPIError

from forensics.bigquery.client import QueryParam, dry_run, run_query
from forensics.bigquery.shapes import drop_nulls, restore_labels
from forensics.bigquery.source import WIRE, BigQuerySource, discover, entries_ctes
from forensics.collectors.checkpoints import Checkpoints, Range, subtract
from forensics.collectors.filters import short_hash
from forensics.errors import CollectError, ForensicsError
from forensics.ingest import ingest_texts
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.store import Store, transaction
from forensics.timeutil import Window

__all__ = [
    "BigQueryReport",
    "BigQueryRequest",
    "collect_bigquery",
    "counts_sql",
    "entries_sql",
    "explain_bigquery",
    "rebuild_entry",
    "request_from_config",
]

RUN_TEXT_LOGS = ("run.googleapis.com/stdout", "run.googleapis.com/stderr")


@dataclass(frozen=True)
class BigQueryRequest:
    """One window of one BigQuery source."""

    source: BigQuerySource
    window: Window
    billing_project: str
    max_bytes_billed: int = 50 * 2**30
    per_minute: int = 20
    context_seconds: float = 30.0
    settle_minutes: float = 5.0
    timeout_s: float = 600.0


@dataclass
class BigQueryReport:
    """How a BigQuery collection went."""

    source: str
    window: Window
    status: str = "complete"  # complete | skipped (already collected) | failed
    scanned_rows: int = 0  # rows in the window (from the counts)
    transferred: dict[str, int] = field(default_factory=dict)  # match / candidate / context
    stored: int = 0
    bytes_estimated: int = 0
    bytes_billed: int = 0
    disagreements: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def transfer_ratio(self) -> float:
        return sum(self.transferred.values()) / self.scanned_rows if self.scanned_rows else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "window": self.window.as_dict(),
            "status": self.status,
            "rows_in_window": self.scanned_rows,
            "transferred": self.transferred,
            "transfer_ratio": round(self.transfer_ratio, 6),
            "stored": self.stored,
            "bytes_estimated": self.bytes_estimated,
            "disagreements": self.disagreements,
            "error": self.error,
        }


def _params(window: Window | Range) -> list[QueryParam]:
    since, until = (window.since, window.until) if isinstance(window, Window) else window
    return [("since", "TIMESTAMP", since), ("until", "TIMESTAMP", until)]


def entries_sql(ctes: str, catalog: Catalog, per_minute: int, context_seconds: float) -> str:
    """The statement returning the entries to bring home (``kind``, BigQuery's primary
    signature, identity and the WIRE columns)."""
    from forensics.signatures.compile import classification_sql
    from forensics.signatures.dialect import BIGQUERY
    from forensics.signatures.mining import error_sql

    hits = classification_sql(catalog, "TRUE", dialect=BIGQUERY, source="log_entries")
    pad = max(0, int(context_seconds))
    run_logs = ", ".join(f"'{name}'" for name in RUN_TEXT_LOGS)
    wire = ", ".join(f"f.{c}" for c in WIRE)
    kept_wire = ", ".join(WIRE)
    return f"""WITH {ctes},
hits AS ({hits}),
primaries AS (SELECT `timestamp`, log_name, insert_id, signature FROM hits WHERE is_primary),
flagged AS (
    SELECT e.*, p.signature AS primary_signature,
        CASE WHEN p.signature IS NOT NULL THEN 'match'
             WHEN {error_sql(BIGQUERY)} THEN 'candidate' END AS kind
    FROM log_entries AS e LEFT JOIN primaries AS p
        ON e.`timestamp` = p.`timestamp` AND e.log_name = p.log_name
        AND e.insert_id = p.insert_id
),
ranked AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY kind, COALESCE(primary_signature,
            REGEXP_REPLACE(SUBSTR(COALESCE(message, ''), 1, 120), r'[0-9]+', '0')),
            service, TIMESTAMP_TRUNC(`timestamp`, MINUTE)
        ORDER BY `timestamp`, insert_id) AS nth
    FROM flagged WHERE kind IS NOT NULL
),
kept AS (SELECT * FROM ranked WHERE nth <= {int(per_minute)}),
near AS (
    SELECT DISTINCT f.`timestamp`, f.log_name, f.insert_id, f.service, f.instance_id
    FROM flagged AS f JOIN kept AS k
        ON f.service = k.service AND (k.instance_id IS NULL OR f.instance_id = k.instance_id)
        AND f.`timestamp` BETWEEN TIMESTAMP_SUB(k.`timestamp`, INTERVAL {pad} SECOND)
            AND TIMESTAMP_ADD(k.`timestamp`, INTERVAL {pad} SECOND)
    WHERE f.kind IS NULL AND f.resource_type = 'cloud_run_revision'
        AND f.log_id IN ({run_logs})
),
around AS (  -- the same cap per instance and minute: a burst's context stays bounded too
    SELECT * FROM near
    WHERE TRUE  -- GoogleSQL accepts QUALIFY only beside WHERE, GROUP BY or HAVING
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY service, instance_id, TIMESTAMP_TRUNC(`timestamp`, MINUTE)
        ORDER BY `timestamp`, insert_id) <= {int(per_minute)}
),
picked AS (
    SELECT kind, primary_signature, `timestamp`, log_name, insert_id, {kept_wire} FROM kept
    UNION ALL
    SELECT 'context', NULL, f.`timestamp`, f.log_name, f.insert_id, {wire}
    FROM flagged AS f JOIN around AS a
        ON f.`timestamp` = a.`timestamp` AND f.log_name = a.log_name
        AND f.insert_id = a.insert_id
)
SELECT * FROM picked"""


def counts_sql(ctes: str) -> str:
    """Entries per minute, service, severity and HTTP status for the window."""
    return f"""WITH {ctes}
SELECT TIMESTAMP_TRUNC(`timestamp`, MINUTE) AS minute, service, severity_name AS severity,
    http_status, COUNT(*) AS entries
FROM log_entries
GROUP BY 1, 2, 3, 4"""


_SNAKE_PART = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _SNAKE_PART.sub(lambda m: m[1].upper(), name)


def _duration(value: Any) -> Any:
    if not isinstance(value, dict) or value.get("seconds") is None:
        return value
    seconds, nanos = int(value["seconds"]), int(value.get("nanos") or 0)
    if nanos == 0:
        return f"{seconds}s"
    width = 3 if nanos % 1_000_000 == 0 else 6 if nanos % 1000 == 0 else 9
    return f"{seconds}.{str(nanos // 10 ** (9 - width)).zfill(width)}s"


def _loads(text: Any) -> Any:
    return drop_nulls(json.loads(text)) if isinstance(text, str) and text else None


def rebuild_entry(row: dict[str, Any]) -> dict[str, Any]:
    """The LogEntry a wire row came from, in the Logging API's JSON form."""
    stamp = row["timestamp"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    entry: dict[str, Any] = {"logName": row["raw_log_name"], "timestamp": stamp}
    if row.get("receive_timestamp") is not None:
        received = row["receive_timestamp"].astimezone(UTC).isoformat()
        entry["receiveTimestamp"] = received.replace("+00:00", "Z")
    for key, column in (("severity", "severity"), ("insertId", "insert_id"), ("trace", "trace")):
        if row.get(column) is not None:
            entry[key] = row[column]
    if row.get("span_id") is not None:
        entry["spanId"] = row["span_id"]
    if row.get("trace_sampled") is not None:
        entry["traceSampled"] = row["trace_sampled"]
    resource = _loads(row.get("resource_json"))
    if resource:
        entry["resource"] = resource
    labels = _loads(row.get("labels"))
    if labels:
        entry["labels"] = restore_labels(labels)
    http = _loads(row.get("http_json"))
    if http:
        if row.get("wire_kind") == "analytics":  # snake_case struct, Duration as a struct
            http = {_camel(k): _duration(v) if k == "latency" else v for k, v in http.items()}
        entry["httpRequest"] = http
    if row.get("text_payload") is not None:
        entry["textPayload"] = row["text_payload"]
    payload = _loads(row.get("wire_json_payload"))
    if payload is not None:
        entry["jsonPayload"] = payload
    proto = _loads(row.get("proto_payload"))
    if proto is not None:
        entry["protoPayload"] = proto
    return entry


def explain_bigquery(
    client: Any, request: BigQueryRequest, catalog: Catalog | None = None
) -> dict[str, Any]:
    """Both statements and what a dry run says they would scan; nothing is run."""
    catalog = catalog or load_catalog()
    try:
        tables = discover(client, request.source, request.window)
    except (GoogleAPIError, OSError) as err:
        raise CollectError(f"{request.source.key}: {_first_line(err)}") from err
    ctes = entries_ctes(tables)
    params = _params(request.window)
    statements = {
        "entries": entries_sql(ctes, catalog, request.per_minute, request.context_seconds),
        "counts": counts_sql(ctes),
    }
    return {
        "source": request.source.key,
        "window": request.window.as_dict(),
        "tables": [t.table_id for t in tables],
        "max_bytes_billed": request.max_bytes_billed,
        "statements": [
            {"name": name, "sql": sql, "bytes_estimated": dry_run(client, sql, params)}
            for name, sql in statements.items()
        ],
    }


def _first_line(err: Exception) -> str:
    text = str(getattr(err, "message", None) or err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def collect_bigquery(
    store: Store,
    request: BigQueryRequest,
    *,
    client: Any,
    catalog: Catalog | None = None,
    now: datetime | None = None,
) -> BigQueryReport:
    """Collect the request's window into ``store`` (see the module docstring)."""
    catalog = catalog or load_catalog()
    key = request.source.key
    report = BigQueryReport(key, request.window)
    scope = short_hash(f"{key}|{catalog.version}|{request.per_minute}|{request.context_seconds:g}")
    checkpoints = Checkpoints(store)
    wanted: list[Range] = [(request.window.since, request.window.until)]
    todo = subtract(wanted, checkpoints.covered(key, scope))
    if not todo:
        report.status = "skipped"
        return report
    settle = (now or datetime.now(UTC)) - timedelta(minutes=request.settle_minutes)
    for start, end in todo:
        window = Window(start, end)
        try:
            tables = discover(client, request.source, window)
        except (GoogleAPIError, OSError) as err:  # no such dataset, no permission, offline
            reason = _first_line(err)
            checkpoints.record_gap(key, [(start, end)], reason)
            report.status, report.error = "failed", reason
            continue
        # no table for these days: the sink wrote nothing then, which is an answer too
        ctes = entries_ctes(tables) if tables else ""
        text = (
            entries_sql(ctes, catalog, request.per_minute, request.context_seconds) if ctes else ""
        )
        ckpt = checkpoints.begin(
            source=key,
            project=request.billing_project,
            scope_hash=scope,
            query_hash=short_hash(f"{text}|{start.isoformat()}|{end.isoformat()}"),
            query=f"{key} {catalog.version} [{start.isoformat()}, {end.isoformat()})",
            ranges=[(start, end)],
        )
        try:
            _collect_range(store, request, client, ctes, text, window, report, ckpt, settle)
        except (ForensicsError, GoogleAPIError, OSError) as err:  # refused, denied, timed out
            reason = _first_line(err)
            checkpoints.fail(ckpt, reason)
            checkpoints.record_gap(key, [(start, end)], reason)
            report.status, report.error = "failed", reason
            continue
        checkpoints.clear_gaps(key, [(start, end)])
    from forensics.pipeline import classify_pending  # the pipeline owns classification

    classify_pending(store, catalog)
    report.disagreements = _disagreements(store, key, report)
    return report


def _collect_range(
    store: Store,
    request: BigQueryRequest,
    client: Any,
    ctes: str,
    text: str,
    window: Window,
    report: BigQueryReport,
    ckpt: Any,
    settle: datetime,
) -> None:
    if not ctes:
        with transaction(store.conn):
            Checkpoints(store).advance(
                store.conn,
                ckpt,
                next_token=None,
                last_timestamp=window.until,
                items=0,
                covered_until=min(window.until, settle),
            )
        return
    params = _params(window)
    limit, timeout = request.max_bytes_billed, request.timeout_s
    report.bytes_estimated += dry_run(client, text, params)
    report.bytes_estimated += dry_run(client, counts_sql(ctes), params)
    if report.bytes_estimated > limit:
        raise CollectError(
            f"the queries would scan {report.bytes_estimated:,} bytes, more than "
            f"max_bytes_billed {limit:,}: narrow the window or raise --max-bytes-billed"
        )
    rows = run_query(client, text, params, limit, timeout)
    counts = run_query(client, counts_sql(ctes), params, limit, timeout)
    seen: set[tuple[Any, ...]] = set()
    texts = []
    for row in rows:
        identity = (row["timestamp"], row["log_name"], row["insert_id"])
        if identity in seen:
            continue
        seen.add(identity)
        report.transferred[row["kind"]] = report.transferred.get(row["kind"], 0) + 1
        texts.append(json.dumps(rebuild_entry(row), separators=(",", ":"), ensure_ascii=False))
    report.scanned_rows += sum(int(c["entries"]) for c in counts)
    _remember_primaries(store, rows)
    checkpoints = Checkpoints(store)

    def commit(conn: Any) -> None:
        conn.execute(
            "DELETE FROM minute_counts WHERE source = ? AND minute >= ? AND minute < ?",
            [report.source, window.since, window.until],
        )
        if counts:
            conn.executemany(
                "INSERT INTO minute_counts VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [
                        report.source,
                        c["minute"],
                        c["service"],
                        c["severity"],
                        c["http_status"],
                        int(c["entries"]),
                    ]
                    for c in counts
                ],
            )
        checkpoints.advance(
            conn,
            ckpt,
            next_token=None,
            last_timestamp=window.until,
            items=len(texts),
            covered_until=min(window.until, settle),
        )

    # Entries first, then counts and checkpoint in one transaction: a run killed in between
    # leaves the window unfinished, and the next run collects it again (the store keeps each
    # entry once), so nothing is ever recorded as collected without its entries.
    if texts:
        report.stored += ingest_texts(store, texts, report.source).accepted
    with transaction(store.conn):
        commit(store.conn)


# BigQuery's primary signature per entry brought home as a match, to compare with the local
# classification once it has run (a temp table: it is a check, not evidence).
def _remember_primaries(store: Store, rows: list[dict[str, Any]]) -> None:
    store.conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _bigquery_primaries (ts TIMESTAMPTZ, log_name VARCHAR, "
        "insert_id VARCHAR, signature VARCHAR)"
    )
    matched = [
        [r["timestamp"], r["log_name"], r["insert_id"], r["primary_signature"]]
        for r in rows
        if r["kind"] == "match"
    ]
    if matched:
        store.conn.executemany("INSERT INTO _bigquery_primaries VALUES (?, ?, ?, ?)", matched)


def _disagreements(store: Store, source: str, report: BigQueryReport) -> list[str]:
    """Entries whose primary signature in BigQuery differs from the local classification."""
    if "match" not in report.transferred:
        return []
    rows = store.conn.execute(
        "SELECT b.insert_id, b.signature, m.signature FROM _bigquery_primaries AS b "
        'LEFT JOIN signature_matches AS m ON m.is_primary AND m."timestamp" = b.ts '
        "AND m.log_name = b.log_name AND m.insert_id = b.insert_id "
        "WHERE m.signature IS DISTINCT FROM b.signature ORDER BY 1"
    ).fetchall()
    return [f"{i}: bigquery {a} != local {b}" for i, a, b in rows]


def request_from_config(config: Any, window: Window) -> BigQueryRequest:
    """The request [bigquery] (with flags applied) describes; jobs bill the configured project,
    else the source's."""
    from forensics.bigquery.source import parse_source

    settings = config.bigquery
    source = parse_source(settings.source, config.project)
    return BigQueryRequest(
        source,
        window,
        config.project or source.project,
        max_bytes_billed=settings.max_bytes_billed,
        per_minute=settings.per_minute,
        context_seconds=config.collect.context_seconds,
        settle_minutes=config.collect.settle_minutes,
        timeout_s=settings.timeout_s,
    )
