"""A LogEntry corpus for the end-to-end benchmark, shaped by flags, independent of forensics.demo.

The shape follows the real staging export (``../shared/fixtures/real-staging``): Cloud Run request
logs with ``httpRequest``, stdout/stderr application lines, ``varlog/system`` instance starts and
exits, Cloud Run audit entries for every deploy (a ``ReplaceService`` call and the Revision's Ready
event), and failures in bursts: a DB-init timeout with its traceback split one entry per line (as
Cloud Run splits stderr), the worker's exit 3, ``Container called exit(3).`` and 503s. The failure
wording is taken from that export, not from the demo generator, so neither can flatter the other.

Knobs: ``entries`` (the total over all days), ``revisions`` and ``instances`` (fleet width per
day, totals over all services), ``error_rate`` (share of entries that are errors or 5xx),
``traceback_lines`` (lines per traceback), ``days`` (store span, whole days; the benchmark
analyses the last 24 h).

A store of N days is a run of N days, each shaped like the 1-day corpus: ``entries // days``
entries (the first day also takes the remainder), its own fleet deployed within the day (the
first revision a minute before it starts) and its own crash bursts. The last day is byte for byte
the 1-day corpus of the same seed and per-day entry count, so a 10-day store's last 24 h holds the
1-day store's data and the two differ only in what lies before; each earlier day draws from its
own seed (``"{seed}:{k}"``, k days before the last), its insert ids end in ``-k`` (the last day's
are 20 hex digits: they cannot collide) and a revision name already drawn is drawn again.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

__all__ = ["Shape", "write_corpus"]

PROJECT = "bench-staging"
SERVICES = (
    "api-backend",
    "auth-service",
    "frontend",
    "worker",
    "notifier",
    "billing",
    "search",
    "gateway",
)
_LOG = f"projects/{PROJECT}/logs/"
_REQUESTS = _LOG + "run.googleapis.com%2Frequests"
_STDOUT = _LOG + "run.googleapis.com%2Fstdout"
_STDERR = _LOG + "run.googleapis.com%2Fstderr"
_SYSTEM = _LOG + "run.googleapis.com%2Fvarlog%2Fsystem"
_ACTIVITY = _LOG + "cloudaudit.googleapis.com%2Factivity"
_SYSTEM_EVENT = _LOG + "cloudaudit.googleapis.com%2Fsystem_event"

# Everyday lines, as the real export has them (service names generalised).
_INFO_LINES = (
    "AuthClientCache initialized with default TTL: 300s and user isolation",
    "TracingManager initialized",
    "Handler cleanup complete. Remaining handlers: 8",
    "ErrorRecoveryManager initialized",
    "Enhanced RedisManager initialized with automatic recovery",
    "Database URL (staging/Cloud SQL): postgresql+asyncpg://***@/app?host=/cloudsql/p:r:i",
)
_DEFAULT_LINES = (
    "[{ts} +0000] [15] [INFO] connection closed",
    '169.254.169.126:{port} - "GET /api/threads HTTP/1.1" 200',
    "Backend Service: Running in staging - skipping .env file loading (using GSM)",
)
_WARNING_LINES = (
    "Sentry SDK not available - install sentry-sdk[fastapi] to enable error tracking",
    "WebSocket connection rejected in staging: Invalid JWT",
)
_PATHS = ("/health", "/api/threads", "/api/messages", "/api/agents/run", "/ws", "/static/app.js")
_AGENTS = ("python-requests/2.32.5", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0", "curl/8.9.0")
_DB_TIMEOUT = (
    "CRITICAL STARTUP FAILURE: Phase 3 DATABASE: Database initialization timeout after 20.0s "
    "in staging environment. This may indicate Cloud SQL connection issues."
)
_FRAME = '  File "/app/{service}/app/{module}.py", line {line}, in {function}'
_FRAME_CODE = "    await asyncio.wait_for(init_db(), timeout=20.0)"
_TRACE_END = (
    "{service}.app.smd.DeterministicStartupError: Database initialization timed out after 20.0s"
)
_WORKER_EXIT = "[{ts} +0000] [12] [ERROR] Worker (pid:13) exited with code 3"
_WORKER_REASON = "[{ts} +0000] [12] [ERROR] Reason: Worker failed to boot."
_EXIT_3 = "Container called exit(3)."
_MALFORMED = (
    "The request failed because either the HTTP response was malformed or connection to the "
    "instance had an error. Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
)
_STARTING = (
    "Starting new instance. Reason: AUTOSCALING - Instance started due to configured scaling "
    "factors (e.g. CPU utilization, request throughput, etc.) or no existing capacity for current "
    "traffic."
)
_PROBE_OK = (
    'Default STARTUP TCP probe succeeded after 1 attempt for container "{service}-1" on port 8080.'
)


@dataclass(frozen=True)
class Shape:
    """What the corpus looks like: ``entries`` in total over ``days`` whole days; the fleet's
    totals are per day, over all services."""

    entries: int = 1_000_000
    services: int = 6
    revisions: int = 18
    instances: int = 720
    error_rate: float = 0.03
    traceback_lines: int = 8
    days: int = 1
    end: datetime = datetime(2025, 9, 17, tzinfo=UTC)
    seed: int = 11

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


@dataclass
class _Revision:
    service: str
    name: str
    deployed: float  # seconds from the corpus start
    instances: list[str]


def _iso(base: datetime, offset_s: float) -> str:
    return (base + timedelta(seconds=offset_s)).isoformat().replace("+00:00", "Z")


class _Writer:
    """Entries as NDJSON lines with unique insert ids, counted."""

    def __init__(self, out: TextIO, shape: Shape, rng: random.Random, suffix: str = "") -> None:
        self.out, self.shape, self.rng, self.suffix = out, shape, rng, suffix
        self.count = 0

    def entry(
        self,
        offset_s: float,
        log_name: str,
        rev: _Revision | None,
        service: str,
        severity: str,
        instance: str | None = None,
        **fields: Any,
    ) -> None:
        labels = {
            "service_name": service,
            "configuration_name": service,
            "location": "us-central1",
            "project_id": PROJECT,
        }
        if rev is not None:
            labels["revision_name"] = rev.name
        record: dict[str, Any] = {
            "insertId": f"{self.count:08x}{self.rng.getrandbits(48):012x}{self.suffix}",
            "logName": log_name,
            "resource": {"type": "cloud_run_revision", "labels": labels},
            "timestamp": _iso(self.shape.start, offset_s),
            "receiveTimestamp": _iso(self.shape.start, offset_s + 0.2),
            "severity": severity,
        }
        if instance is not None:
            record["labels"] = {"instanceId": instance}
        record.update(fields)
        self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.count += 1


def _fleet(
    shape: Shape, rng: random.Random, taken: set[str] | None = None
) -> dict[str, list[_Revision]]:
    """Revisions per service, deployed evenly over the span (the first one just before it); a
    name in ``taken`` is drawn again, and each name drawn is added to it."""
    taken = set() if taken is None else taken
    services = [SERVICES[i % len(SERVICES)] + ("" if i < len(SERVICES) else f"-{i}")
                for i in range(shape.services)]  # fmt: skip
    span = shape.days * 86_400
    per_service = max(1, shape.revisions // len(services))
    per_revision = max(1, shape.instances // (per_service * len(services)))
    fleet: dict[str, list[_Revision]] = {}
    for service in services:
        revisions = []
        for k in range(per_service):
            name = f"{service}-{k + 1:05d}-{rng.getrandbits(12):03x}"
            while name in taken:
                name = f"{service}-{k + 1:05d}-{rng.getrandbits(12):03x}"
            taken.add(name)
            instances = [f"{rng.getrandbits(640):0160x}" for _ in range(per_revision)]
            revisions.append(_Revision(service, name, k * span / per_service - 60.0, instances))
        fleet[service] = revisions
    return fleet


def _live(revisions: list[_Revision], offset_s: float) -> _Revision:
    """The revision serving at ``offset_s`` (the last deployed before it)."""
    lo, hi = 0, len(revisions) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if revisions[mid].deployed <= offset_s:
            lo = mid
        else:
            hi = mid - 1
    return revisions[lo]


def _deploy(w: _Writer, rev: _Revision, k: int) -> None:
    """The ReplaceService call and the Revision's Ready event a deploy leaves in the audit logs."""
    annotations = {
        "autoscaling.knative.dev/minScale": "1",
        "autoscaling.knative.dev/maxScale": str(20 + k % 3),
        "run.googleapis.com/cloudsql-instances": f"{PROJECT}:us-central1:staging-postgres",
        "run.googleapis.com/vpc-access-connector": "staging-connector",
    }
    container = {
        "image": f"gcr.io/{PROJECT}/{rev.service}@sha256:{w.rng.getrandbits(256):064x}",
        "env": [{"name": n} for n in ("ENVIRONMENT", "POSTGRES_HOST", "REDIS_URL")],
        "resources": {"limits": {"cpu": "2", "memory": "4Gi" if k % 2 else "2Gi"}},
        "ports": [{"containerPort": 8080}],
    }
    template = {"metadata": {"annotations": annotations}, "spec": {"containers": [container]}}
    call = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "methodName": "google.cloud.run.v1.Services.ReplaceService",
        "resourceName": f"namespaces/{PROJECT}/services/{rev.service}",
        "authenticationInfo": {"principalEmail": f"deploy@{PROJECT}.iam.gserviceaccount.com"},
        "request": {"service": {"spec": {"template": template}}},
    }
    w.entry(rev.deployed, _ACTIVITY, None, rev.service, "NOTICE", protoPayload=call)
    ready = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "methodName": "/Services.ReplaceService",
        "resourceName": f"namespaces/{PROJECT}/revisions/{rev.name}",
        "response": {
            "kind": "Revision",
            "metadata": {"name": rev.name, "annotations": annotations},
            "spec": {"containers": [container]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
    }
    w.entry(rev.deployed + 30.0, _SYSTEM_EVENT, rev, rev.service, "INFO", protoPayload=ready)


def _request(w: _Writer, t: float, rev: _Revision, instance: str, status: int) -> None:
    rng = w.rng
    path = rng.choice(_PATHS)
    http = {
        "requestMethod": "POST" if path.startswith("/api/agents") else "GET",
        "requestUrl": f"https://{rev.service}-pnovr5vsba-uc.a.run.app{path}",
        "status": status,
        "latency": f"{rng.lognormvariate(-2.5, 1.0):.6f}s",
        "userAgent": rng.choice(_AGENTS),
        "remoteIp": f"203.0.113.{rng.randrange(1, 255)}",
        "responseSize": str(rng.randrange(200, 20_000)),
        "protocol": "HTTP/1.1",
    }
    severity = "ERROR" if status >= 500 else ("WARNING" if status >= 400 else "INFO")
    extra: dict[str, Any] = {"httpRequest": http}
    extra["trace"] = f"projects/{PROJECT}/traces/{rng.getrandbits(128):032x}"
    if status == 503:
        extra["textPayload"] = _MALFORMED
    w.entry(t, _REQUESTS, rev, rev.service, severity, instance, **extra)


def _everyday(w: _Writer, t: float, rev: _Revision, instance: str) -> None:
    rng = w.rng
    roll = rng.random()
    stamp = _iso(w.shape.start, t)[:19].replace("T", " ")
    if roll < 0.5:
        _request(w, t, rev, instance, 200 if rng.random() > 0.02 else 404)
    elif roll < 0.75:
        w.entry(t, _STDOUT, rev, rev.service, "INFO", instance, textPayload=rng.choice(_INFO_LINES))
    elif roll < 0.93:
        text = rng.choice(_DEFAULT_LINES).format(ts=stamp, port=rng.randrange(10_000, 60_000))
        w.entry(t, _STDERR, rev, rev.service, "DEFAULT", instance, textPayload=text)
    elif roll < 0.99:
        payload = {"message": rng.choice(_WARNING_LINES), "logger": f"{rev.service}.app"}
        w.entry(t, _STDERR, rev, rev.service, "WARNING", instance, jsonPayload=payload)
    else:
        w.entry(t, _SYSTEM, rev, rev.service, "INFO", instance, textPayload=_STARTING)
        probe = _PROBE_OK.format(service=rev.service)
        w.entry(t + 2.1, _SYSTEM, rev, rev.service, "INFO", instance, textPayload=probe)


def _failure(w: _Writer, t: float, rev: _Revision, instance: str) -> int:
    """One crash of an instance: DB-init timeout, its split traceback, exit 3, then 503s."""
    stamp = _iso(w.shape.start, t)[:19].replace("T", " ")
    module = rev.service.replace("-", "_")
    w.entry(t, _STDERR, rev, rev.service, "ERROR", instance, textPayload=_DB_TIMEOUT)
    lines = ["Traceback (most recent call last):"]
    for depth in range(max(0, w.shape.traceback_lines - 2)):
        if depth % 2 == 0:
            lines.append(_FRAME.format(service=module, module="smd", line=400 + depth,
                                       function="_phase3_database"))  # fmt: skip
        else:
            lines.append(_FRAME_CODE)
    lines.append(_TRACE_END.format(service=module))
    for i, line in enumerate(lines[: max(1, w.shape.traceback_lines)]):
        w.entry(t + 0.001 * (i + 1), _STDERR, rev, rev.service, "ERROR", instance, textPayload=line)
    w.entry(t + 0.5, _STDERR, rev, rev.service, "DEFAULT", instance,
            textPayload=_WORKER_EXIT.format(ts=stamp))  # fmt: skip
    w.entry(t + 0.5, _STDERR, rev, rev.service, "DEFAULT", instance,
            textPayload=_WORKER_REASON.format(ts=stamp))  # fmt: skip
    w.entry(t + 0.9, _SYSTEM, rev, rev.service, "WARNING", instance, textPayload=_EXIT_3)
    failed = 3 + len(lines[: max(1, w.shape.traceback_lines)]) + 1
    for k in range(3):
        _request(w, t + 1.0 + k, rev, instance, 503)
    return failed + 3


def _plan(shape: Shape, rng: random.Random) -> Iterator[tuple[float, str]]:
    """Sorted (offset, kind) events: everyday entries, with crashes in bursts (incidents)."""
    span = shape.days * 86_400
    per_crash = shape.traceback_lines + 7  # entries one crash writes
    crashes = int(shape.entries * shape.error_rate / per_crash)
    everyday = max(0, shape.entries - crashes * per_crash - 2 * shape.revisions)
    # Crashes come in bursts of ~20 over 15 minutes: incidents, not noise.
    bursts = max(1, crashes // 20)
    starts = [rng.uniform(0, span - 900) for _ in range(bursts)]
    events = [(rng.choice(starts) + rng.uniform(0, 900), "crash") for _ in range(crashes)]
    events += [(rng.uniform(0, span), "everyday") for _ in range(everyday)]
    events.sort()
    yield from events


def _days(shape: Shape) -> Iterator[tuple[Shape, random.Random, str]]:
    """Each day's shape, generator and insert-id suffix, the earliest first."""
    days = int(shape.days)
    if days != shape.days or days < 1:
        raise ValueError(f"days must be a whole number >= 1, not {shape.days}")
    per_day = shape.entries // days
    for back in range(days - 1, -1, -1):
        extra = shape.entries - per_day * days if back == days - 1 else 0
        day = replace(shape, entries=per_day + extra, days=1, end=shape.end - timedelta(days=back))
        if back == 0:
            yield day, random.Random(shape.seed), ""
        else:
            yield day, random.Random(f"{shape.seed}:{back}"), f"-{back}"


def _write_day(out: TextIO, shape: Shape, rng: random.Random, suffix: str, taken: set[str]) -> int:
    """One day's entries (a 1-day corpus); return how many were written."""
    fleet = _fleet(shape, rng, taken)
    deploys = sorted(
        ((rev.deployed, k, rev) for revisions in fleet.values() for k, rev in enumerate(revisions)),
        key=lambda d: d[0],
    )
    services = list(fleet)
    w = _Writer(out, shape, rng, suffix)
    next_deploy = 0
    for offset, kind in _plan(shape, rng):
        while next_deploy < len(deploys) and deploys[next_deploy][0] <= offset:
            _, k, rev = deploys[next_deploy]
            _deploy(w, rev, k)
            next_deploy += 1
        # Crashes hit the first two services (the backend and its auth service).
        service = rng.choice(services[:2] if kind == "crash" else services)
        rev = _live(fleet[service], offset)
        instance = rng.choice(rev.instances)
        if kind == "crash":
            _failure(w, offset, rev, instance)
        else:
            _everyday(w, offset, rev, instance)
    for _, k, rev in deploys[next_deploy:]:
        _deploy(w, rev, k)
    return w.count


def write_corpus(path: Path, shape: Shape) -> int:
    """Write the corpus as NDJSON to ``path``, day by day; return the number of entries written.

    O(entries) time; memory one day's plan."""
    days = list(_days(shape))
    # The last day's revision names, drawn as it will draw them: earlier days draw others.
    taken: set[str] = set()
    _fleet(days[-1][0], random.Random(shape.seed), taken)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for day, rng, suffix in days:
            written += _write_day(out, day, rng, suffix, taken if suffix else set())
    return written
