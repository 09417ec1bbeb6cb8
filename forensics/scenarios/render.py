"""Render a scenario into Cloud Logging entries and Cloud Monitoring series (REST JSON shapes).

Independent of the demo generator on purpose: the texts and shapes are copied from the real
export in ``../shared/fixtures/real-staging`` (gunicorn worker exits, "Container called
exit(3).", split stderr tracebacks, the Cloud Run malformed-response 503; see texts.py) and
from ``../shared/reference/gcp-wire-facts.md`` (audit logs, Cloud SQL ``postgres.log`` lines,
metric kinds and units). Everything is deterministic for a scenario's seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.scenarios.audit import deploy_entries
from forensics.scenarios.model import Deploy, Failure, Scenario, Service
from forensics.scenarios.series import metric_series
from forensics.scenarios.texts import (
    AUTH_CACHED,
    AUTH_REQUIRED,
    BOOT_LINES,
    CONNECTION_ERROR_503,
    HEALTHY_LINE,
    QUEUEPOOL,
    SCALING_AUTOSCALING,
    SCALING_ROLLOUT,
    TOO_MANY_CLIENTS,
    crash_lines,
    gunicorn,
)
from forensics.scenarios.world import REGION, Rendered, World, minute_of, minutes, revision_at

__all__ = ["Rendered", "render"]

_PATHS = ("/api/threads", "/api/agents/execute", "/api/auth/verify", "/api/users/me", "/ws")

# -- failures -------------------------------------------------------------------------------


@dataclass
class _Boot:
    """One crash-looping instance: when it started, when it died, on which revision."""

    instance: str
    revision: str
    start: datetime
    end: datetime


def _crash_loop(w: World, f: Failure) -> list[_Boot]:
    """Instances that start and die with exit 3, every ``boot_every_s`` from start to end."""
    svc = str(f.service)
    every = float(f.get("boot_every_s", 45))
    late = float(f.get("late_s", 0))
    cause = str(f.get("cause", "db-init-timeout"))
    timeout_s = float(f.get("timeout_s", 20.0))
    boots: list[_Boot] = []
    at = f.start
    while True:
        lines = crash_lines(cause, f.params, timeout_s)
        duration = max(offset for offset, *_ in lines) + 0.2
        if at + timedelta(seconds=duration) > f.end:
            break
        rev = str(f.get("revision", "")) or revision_at(w.s, w.s.service(svc), at)
        inst = w.instance_id()
        w.system(svc, rev, inst, at, SCALING_AUTOSCALING, "INFO", late)
        for offset, severity, log_id, text, payload in lines:
            when = at + timedelta(seconds=offset)
            entry = w.run_entry(svc, rev, inst, log_id, severity, text, payload)
            if log_id.endswith("varlog/system"):
                entry["labels"]["container_name"] = f"{svc}-1"
            if text is not None and "{ts}" in text:
                entry["textPayload"] = text.replace("{ts}", gunicorn(when))
            w.emit(entry, when, late)
        boots.append(_Boot(inst, rev, at, at + timedelta(seconds=duration)))
        w.tally.instances[(svc, rev)][minute_of(at)] += 1
        at += timedelta(seconds=every)
    return boots


def _start_instance(w: World, svc: str, rev: str, at: datetime, startup_s: float, why: str) -> str:
    """A healthy instance start: platform line, app boot, startup complete, probe success."""
    inst = w.instance_id()
    w.system(svc, rev, inst, at, why, "INFO", 0.0)
    ready = at + timedelta(seconds=startup_s)
    for offset, text in BOOT_LINES:
        w.line(svc, rev, inst, at + timedelta(seconds=offset), text.replace("{ts}", gunicorn(at)))
    w.line(svc, rev, inst, ready, f"[{gunicorn(ready)}] [13] [INFO] Application startup complete.")
    probe = (
        f'Default STARTUP TCP probe succeeded after 1 attempt for container "{svc}-1" on port 8000.'
    )
    w.system(svc, rev, inst, ready + timedelta(milliseconds=150), probe, "INFO", 0.0)
    return inst


def _memory_limit(w: World, f: Failure) -> dict[datetime, str]:
    """OOM kills every ``every_s`` on the service's instances; returns kill time -> instance."""
    svc = str(f.service)
    every = float(f.get("every_s", 120))
    kills: dict[datetime, str] = {}
    at = f.start
    while at < f.end:
        pool = list(w.pool_at(svc, at))
        victim = pool[len(kills) % len(pool)]
        rev = revision_at(w.s, w.s.service(svc), at)
        limit = int(f.get("limit_mib", 512))
        text = (
            f"Memory limit of {limit} MiB exceeded with {limit + w.rng.randint(3, 20)} MiB used. "
            "Consider increasing the memory limit, see "
            "https://cloud.google.com/run/docs/configuring/memory-limits"
        )
        w.system(svc, rev, victim, at, text, "ERROR", 0.0)
        w.system(
            svc, rev, victim, at + timedelta(milliseconds=90), "Container terminated on signal 9.",
            "WARNING", 0.0,
        )  # fmt: skip
        kills[at] = victim
        fresh = _start_instance(w, svc, rev, at + timedelta(seconds=2), 6.0, SCALING_AUTOSCALING)
        pool[pool.index(victim)] = fresh
        w.set_pool(svc, at + timedelta(seconds=8), pool)
        at += timedelta(seconds=every)
    return kills


def _cloudsql(w: World, f: Failure) -> None:
    """PostgreSQL refusing connections: FATAL lines in postgres.log, ``per_minute`` of them."""
    per_minute = int(f.get("per_minute", 6))
    db = f"{w.s.project}:{w.s.sql_instance}"
    late = float(f.get("late_s", 0))
    for minute in minutes(f.start, f.end):
        for k in range(per_minute):
            at = minute + timedelta(seconds=(k + 0.5) * 60 / per_minute)
            if at >= f.end:
                break
            pid = w.rng.randint(80000, 99999)
            stamp = at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d} UTC"
            text = f"{stamp} [{pid}]: [1-1] db=netra_staging,user=netra_app {TOO_MANY_CLIENTS}"
            entry = {
                "logName": w.log_name("cloudsql.googleapis.com/postgres.log"),
                "resource": {
                    "type": "cloudsql_database",
                    "labels": {"database_id": db, "project_id": w.s.project, "region": REGION},
                },
                "severity": "ERROR",
                "textPayload": text,
            }
            w.emit(entry, at, late)


def _auth_timeout(w: World, f: Failure) -> None:
    """The backend falling back to cached tokens (WARNING) or refusing (ERROR): auth is down."""
    svc = str(f.service)
    warn_every = timedelta(seconds=float(f.get("every_s", 60)))
    error_every = timedelta(seconds=float(f.get("error_every_s", 120)))
    at, next_error = f.start + timedelta(seconds=1), f.start + timedelta(seconds=30)
    while at < f.end:
        rev = revision_at(w.s, w.s.service(svc), at)
        inst = w.pool_at(svc, at)[0]
        w.line(svc, rev, inst, at, f"{at.strftime('%Y-%m-%d %H:%M:%S')} - {AUTH_CACHED}")
        if next_error <= at:
            text = f"{at.strftime('%Y-%m-%d %H:%M:%S')} - {AUTH_REQUIRED}"
            w.line(svc, rev, inst, at + timedelta(milliseconds=5), text)
            next_error += error_every
        at += warn_every


# -- traffic --------------------------------------------------------------------------------


@dataclass
class _Outage:
    """Requests of a service failing in [start, end): which share, with which status."""

    failure: Failure
    share: float
    status: int
    boots: list[_Boot] = field(default_factory=list)
    kills: dict[datetime, str] = field(default_factory=dict)
    app_error: bool = False
    seen: int = 0
    hits: dict[datetime, int] = field(default_factory=dict)

    def take(self) -> bool:
        """Deterministic share: exactly floor(n * share) of the first n requests fail."""
        self.seen += 1
        return int(self.seen * self.share) > int((self.seen - 1) * self.share)


def _failing(outages: list[_Outage], svc: str, at: datetime) -> _Outage | None:
    """The outage that fails this request, if any (OOM kills first: they name an instance)."""
    for o in outages:
        f = o.failure
        if f.service != svc or not f.start <= at < f.end + timedelta(seconds=15):
            continue
        if o.kills:
            kill = max((k for k in o.kills if k <= at), default=None)
            if kill is not None and at - kill < timedelta(seconds=10):
                o.hits[kill] = o.hits.get(kill, 0) + 1
                if o.hits[kill] <= int(f.get("failed_per_kill", 2)):
                    return o
            continue
        if at < f.end and o.take():
            return o
    return None


def _request(
    w: World, svc: Service, at: datetime, path: str, outage: _Outage | None, rev: str, inst: str
) -> None:
    status, severity, latency = 200, "INFO", w.rng.uniform(0.015, 0.35)
    text = None
    if outage is not None:
        status = outage.status
        severity = "ERROR"
        latency = w.rng.uniform(2.0, 8.0) if status == 503 else w.rng.uniform(0.5, 1.5)
        text = CONNECTION_ERROR_503 if status == 503 else None
        if outage.kills:  # in flight on the instance the kernel just killed
            inst = outage.kills[max(k for k in outage.kills if k <= at)]
        if outage.boots:  # the request waited on the instance that was booting
            boot = max(
                (b for b in outage.boots if b.start <= at), key=lambda b: b.start, default=None
            )
            if boot is not None:
                inst, rev = boot.instance, boot.revision
        if outage.app_error:
            payload = {"message": QUEUEPOOL, "severity": "ERROR"}
            entry = w.run_entry(
                svc.name, rev, inst, "run.googleapis.com/stderr", "ERROR", None, payload
            )
            w.emit(entry, at - timedelta(milliseconds=30), float(outage.failure.get("late_s", 0)))
    trace, span = w.trace()
    entry = w.run_entry(svc.name, rev, inst, "run.googleapis.com/requests", severity, text)
    entry["trace"], entry["spanId"], entry["traceSampled"] = trace, span, True
    entry["httpRequest"] = {
        "requestMethod": "POST" if path == "/api/agents/execute" else "GET",
        "requestUrl": svc.url + path,
        "requestSize": str(w.rng.randint(280, 1100)),
        "status": status,
        "responseSize": str(w.rng.randint(60, 2600)),
        "userAgent": "python-httpx/0.28.1",
        "remoteIp": f"203.0.113.{w.rng.randint(1, 254)}",
        "serverIp": "34.54.41.44",
        "latency": f"{latency:.9f}s",
        "protocol": "HTTP/1.1",
    }
    w.emit(entry, at, float(outage.failure.get("late_s", 0)) if outage else 0.0)
    w.tally.requests[(svc.name, rev, status)][minute_of(at)] += 1


def _traffic(w: World, outages: list[_Outage]) -> None:
    s = w.s
    for svc in s.services:
        health_next = s.since
        for minute in minutes(s.since, s.until):
            rev = revision_at(s, svc, minute)
            times = [
                (minute + timedelta(seconds=(k + w.rng.random()) * 60 / svc.requests_per_minute))
                for k in range(svc.requests_per_minute)
            ]
            paths = [_PATHS[w.rng.randrange(len(_PATHS))] for _ in times]
            while health_next < minute + timedelta(minutes=1):
                times.append(health_next + timedelta(milliseconds=w.rng.randint(0, 900)))
                paths.append("/health")
                health_next += timedelta(seconds=svc.health_every_s)
            for at, path in sorted(zip(times, paths, strict=True)):
                if at >= s.until:
                    continue
                pool = w.pool_at(svc.name, at)
                inst = pool[w.rng.randrange(len(pool))]
                _request(w, svc, at, path, _failing(outages, svc.name, at), rev, inst)
            w.tally.instances[(svc.name, rev)][minute] += len(w.pool_at(svc.name, minute))


def _deploy(w: World, d: Deploy) -> None:
    """The audit pair of a rollout, and the new revision's instances replacing the old pool."""
    for entry, at in deploy_entries(w.s.project, d, REGION):
        w.emit(entry, at)
    start = d.ready_at - timedelta(seconds=d.startup_s + 1)
    pool = [
        _start_instance(w, d.service, d.revision, start, d.startup_s, SCALING_ROLLOUT)
        for _ in range(w.s.service(d.service).instances)
    ]
    w.set_pool(d.service, d.ready_at, pool)


# -- the whole scenario ---------------------------------------------------------------------


def _benign(w: World) -> None:
    """A few ordinary application lines per service, as any healthy day has."""
    s = w.s
    for svc in s.services:
        for minute in minutes(s.since, s.until):
            if minute.minute % 5:
                continue
            rev = revision_at(s, svc, minute)
            inst = w.pool_at(svc.name, minute)[0]
            at = minute + timedelta(seconds=w.rng.uniform(1, 50))
            text = f"{at.strftime('%Y-%m-%d %H:%M:%S')} - {HEALTHY_LINE}"
            w.line(svc.name, rev, inst, at, text, log_id="run.googleapis.com/stdout")


def render(scenario: Scenario) -> Rendered:
    """Render ``scenario`` into entries (on time and late) and metric series."""
    w = World(scenario)
    for svc in scenario.services:
        w.set_pool(
            svc.name,
            scenario.since - timedelta(days=1),
            [w.instance_id() for _ in range(svc.instances)],
        )
    outages: list[_Outage] = []
    events: list[tuple[datetime, int, Any]] = [(d.ready_at, 0, d) for d in scenario.deploys]
    events += [(f.start, 1, f) for f in scenario.failures]
    # Deploys and failures in time order, so a failure after a rollout hits the new pool.
    for _at, _order, item in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(item, Deploy):
            _deploy(w, item)
            continue
        f = item
        if f.kind == "crash-loop":
            o = _Outage(f, float(f.get("requests_fail", 1.0)), 503, boots=_crash_loop(w, f))
            outages.append(o)
        elif f.kind == "memory-limit":
            for m in minutes(f.start - timedelta(minutes=5), f.end):
                rev = revision_at(scenario, scenario.service(str(f.service)), m)
                w.tally.memory[(str(f.service), rev)][m] = float(f.get("memory", 0.96))
            o = _Outage(f, 0.0, 503, kills=_memory_limit(w, f))
            outages.append(o)
        elif f.kind == "auth-timeout":
            _auth_timeout(w, f)
        elif f.kind == "too-many-clients":
            _cloudsql(w, f)
            if f.service:
                share = float(f.get("requests_fail", 0.3))
                outages.append(_Outage(f, share, 500, app_error=bool(f.get("app_errors", True))))
    _traffic(w, outages)
    _benign(w)
    metric_series(w.s, w.tally, w.out)
    w.out.entries.sort(key=lambda e: e["timestamp"])
    w.out.late.sort(key=lambda e: e["timestamp"])
    return w.out
