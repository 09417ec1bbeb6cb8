"""Cloud Monitoring v3 REST JSON time series for the demo window, matching the planted incidents.

One point per minute, newest first. DELTA series have a one-minute interval and only carry points
for minutes with data; GAUGE series have startTime == endTime. `int64Value`, distribution
`count` and `bucketCounts` are strings, as on the wire.
"""

from __future__ import annotations

import math
import random
import time
from datetime import datetime

from forensics.demo.entries import run_resource
from forensics.demo.model import (
    AUTH,
    BACKEND,
    CONNECTOR,
    DEMO_PROJECT,
    FRONTEND,
    KEY_131,
    KEY_372,
    KEY_395,
    KEY_1278,
    KEY_MISSING,
    MINUTE_US,
    REGION,
    REV,
    SQL_DATABASE_ID,
    Timeline,
    deploy_times,
    incident_windows,
    revision_schedule,
    timeline,
)

UTIL_BUCKETS = {
    "exponentialBuckets": {"numFiniteBuckets": 100, "growthFactor": 10 ** (1 / 50), "scale": 0.01}
}
LATENCY_BUCKETS = {
    "exponentialBuckets": {"numFiniteBuckets": 66, "growthFactor": 1.4, "scale": 1.0}
}
PERCENT_BUCKETS = {
    "exponentialBuckets": {"numFiniteBuckets": 50, "growthFactor": 1.1, "scale": 1.0}
}


def _iso(us: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(us // 1_000_000))


def distribution(values: list[float], buckets: dict) -> dict:
    """distributionValue for samples, bucketed like Monitoring (underflow, finite, overflow)."""
    opts = buckets["exponentialBuckets"]
    n, growth, scale = opts["numFiniteBuckets"], opts["growthFactor"], opts["scale"]
    counts = [0] * (n + 2)
    for v in values:
        i = 0 if v < scale else min(n + 1, 1 + int(math.log(v / scale) / math.log(growth)))
        counts[i] += 1
    while counts and counts[-1] == 0:
        counts.pop()
    mean = sum(values) / len(values)
    return {
        "count": str(len(values)),
        "mean": mean,
        "sumOfSquaredDeviation": sum((v - mean) ** 2 for v in values),
        "bucketOptions": {kind: dict(opts) for kind, opts in buckets.items()},  # no sharing
        "bucketCounts": [str(c) for c in counts],
    }


class _Window:
    """Per-minute view of the window: which incident is live and which revision serves."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.minutes = (tl.end_us - tl.start_us) // MINUTE_US
        self.windows = incident_windows(tl)
        self.schedule = revision_schedule(tl)
        self.deploys = deploy_times(tl)

    def start(self, i: int) -> int:
        return self.tl.start_us + i * MINUTE_US

    def live(self, key: str, i: int) -> bool:
        a, b = self.windows[key]
        return self.start(i) < b and a < self.start(i) + MINUTE_US

    def revision(self, service: str, i: int) -> str:
        rev = ""
        for since, name in self.schedule[service]:
            if self.start(i) + MINUTE_US > since:
                rev = name
        return rev

    def diurnal(self, i: int) -> float:
        hour = (self.start(i) // 3_600_000_000) % 24 + (i % 60) / 60
        return 1.0 + 0.6 * math.sin(2 * math.pi * (hour - 9) / 24)


class _Series:
    """Accumulates points per (metric labels, resource labels) and renders REST JSON."""

    def __init__(self, w: _Window) -> None:
        self.w = w
        self.series: dict[tuple, dict] = {}

    def add(
        self,
        metric: str,
        kind: str,
        vtype: str,
        unit: str,
        resource: dict,
        i: int,
        value: dict,
        labels: dict | None = None,
    ) -> None:
        key = (
            metric,
            tuple(sorted((labels or {}).items())),
            resource["type"],
            tuple(sorted(resource["labels"].items())),
        )
        ts = self.series.get(key)
        if ts is None:
            ts = self.series[key] = {
                "metric": {"type": metric, "labels": dict(labels or {})},
                "resource": {"type": resource["type"], "labels": dict(resource["labels"])},
                "metricKind": kind,
                "valueType": vtype,
                "unit": unit,
                "points": [],
            }
        end = _iso(self.w.start(i) + MINUTE_US)
        start = _iso(self.w.start(i)) if kind == "DELTA" else end
        ts["points"].append({"interval": {"startTime": start, "endTime": end}, "value": value})

    def render(self) -> list[dict]:
        out = []
        for ts in self.series.values():
            ts["points"].sort(key=lambda p: p["interval"]["endTime"], reverse=True)
            out.append(ts)
        return out


SQL = {
    "type": "cloudsql_database",
    "labels": {"project_id": DEMO_PROJECT, "database_id": SQL_DATABASE_ID, "region": REGION},
}
VPC = {
    "type": "vpc_access_connector",
    "labels": {"project_id": DEMO_PROJECT, "connector_name": CONNECTOR, "location": REGION},
}
RUN = "run.googleapis.com/"
CSQL = "cloudsql.googleapis.com/database/"
VPCA = "vpcaccess.googleapis.com/connector/"


def _int(v: int) -> dict:
    return {"int64Value": str(v)}


def _cloud_run(s: _Series, w: _Window, rng: random.Random, i: int) -> None:
    """request_count, instance_count, memory/cpu utilizations, startup latencies for minute i."""
    d = w.diurnal(i)
    cascade, memory, race = w.live(KEY_1278, i), w.live(KEY_131, i), w.live(KEY_372, i)
    auth_slow = w.live(KEY_395, i)

    def jitter(mean: float) -> int:
        # No data, no noise: a zero mean stays zero so 5xx only appear with the incidents.
        return max(0, int(rng.gauss(mean, mean**0.5 + 0.5))) if mean > 0 else 0

    def count(service: str, revision: str, code: int, n: int) -> None:
        if n > 0:
            labels = {"response_code": str(code), "response_code_class": f"{code // 100}xx"}
            s.add(
                RUN + "request_count",
                "DELTA",
                "INT64",
                "1",
                run_resource(service, revision),
                i,
                _int(n),
                labels,
            )

    def instances(service: str, revision: str, active: int, idle: int | None) -> None:
        for state, n in (("active", active), ("idle", idle)):
            if n is not None:
                s.add(
                    RUN + "container/instance_count",
                    "GAUGE",
                    "INT64",
                    "1",
                    run_resource(service, revision),
                    i,
                    _int(n),
                    {"state": state},
                )

    def utilization(service: str, revision: str, n: int, mem: float, cpu: float) -> None:
        res = run_resource(service, revision)
        for metric, mean in (("memory", mem), ("cpu", cpu)):
            values = [min(1.0, max(0.001, rng.gauss(mean, 0.02))) for _ in range(max(1, n))]
            s.add(
                RUN + f"container/{metric}/utilizations",
                "DELTA",
                "DISTRIBUTION",
                "10^2.%",
                res,
                i,
                {"distributionValue": distribution(values, UTIL_BUCKETS)},
            )

    def startups(service: str, revision: str, ms: list[float]) -> None:
        if ms:
            s.add(
                RUN + "container/startup_latencies",
                "DELTA",
                "DISTRIBUTION",
                "ms",
                run_resource(service, revision),
                i,
                {"distributionValue": distribution(ms, LATENCY_BUCKETS)},
            )

    be = w.revision(BACKEND, i)
    count(BACKEND, be, 200, jitter(40 * d * (0.6 if cascade else 1.0)))
    count(BACKEND, be, 101, jitter(3 * d))
    count(BACKEND, be, 404, jitter(0.4))
    count(BACKEND, be, 503, jitter(35 if cascade else 6 if memory else 3 if race else 0))
    active = 6 + int(rng.random() * 4) if cascade else 3 + int(rng.random() * 2)
    instances(BACKEND, be, active, 1 + int(rng.random() * 2))
    mem = 0.99 if memory else 0.32 if cascade else 0.48 + 0.1 * (d - 1)
    utilization(BACKEND, be, active, mem, 0.62 if cascade else 0.7 if memory else 0.15 * d)
    starts = [rng.gauss(24_000, 800) for _ in range(2)] if cascade else []
    starts += [rng.gauss(2_600, 300)] if race else []
    starts += [240_000.0] if memory and rng.random() < 0.15 else []
    starts += [rng.gauss(3_100, 400)] if rng.random() < 0.03 else []
    startups(BACKEND, be, starts)

    if w.live(KEY_MISSING, i):
        bad = REV["backend-1"]
        count(BACKEND, bad, 503, jitter(9))
        instances(BACKEND, bad, 1, 0)
        utilization(BACKEND, bad, 1, 0.21, 0.4)
        startups(BACKEND, bad, [rng.gauss(4_200, 300)])

    au = w.revision(AUTH, i)
    scaled_to_zero = au == REV["auth-0"]
    count(AUTH, au, 200, jitter(15 * d))
    auth_active = (int(rng.random() < 0.5) if auth_slow else 1) if scaled_to_zero else 2
    instances(AUTH, au, auth_active, None)
    utilization(AUTH, au, auth_active, 0.36, 0.08 * d)
    startups(AUTH, au, [rng.gauss(9_500, 900)] if auth_slow and rng.random() < 0.3 else [])

    fe = w.revision(FRONTEND, i)
    count(FRONTEND, fe, 200, jitter(25 * d))
    count(FRONTEND, fe, 308, jitter(5 * d))
    instances(FRONTEND, fe, 1 + int(rng.random() < 0.3), None)
    utilization(FRONTEND, fe, 1, 0.24, 0.05 * d)


def _cloud_sql(s: _Series, w: _Window, rng: random.Random, i: int) -> None:
    cascade = w.live(KEY_1278, i)
    staging = 95 + int(rng.random() * 3) if cascade else 24 + int(rng.random() * 14 * w.diurnal(i))
    for db, n in (("netra_staging", staging), ("netra_auth", 5 + int(rng.random() * 4))):
        s.add(
            CSQL + "postgresql/num_backends",
            "GAUGE",
            "INT64",
            "1",
            SQL,
            i,
            _int(n),
            {"database": db},
        )
    cpu = rng.uniform(0.86, 0.97) if cascade else rng.uniform(0.12, 0.3)
    s.add(CSQL + "cpu/utilization", "GAUGE", "DOUBLE", "10^2.%", SQL, i, {"doubleValue": cpu})
    mem = rng.uniform(0.78, 0.84) if cascade else rng.uniform(0.55, 0.6)
    s.add(CSQL + "memory/utilization", "GAUGE", "DOUBLE", "10^2.%", SQL, i, {"doubleValue": mem})
    s.add(CSQL + "up", "GAUGE", "INT64", "1", SQL, i, _int(1))


def _connector(s: _Series, w: _Window, rng: random.Random, i: int) -> None:
    a, b = w.windows[KEY_1278]
    now = w.start(i)
    cascade = w.live(KEY_1278, i)
    # Connectors scale out but never in: 2 -> 3 (old max) in the cascade -> 4 after the update.
    n = 2
    if now >= a + (b - a) // 5:
        n = 3
    if now >= b + w.tl.span(300) + w.tl.span(120):
        n = 4
    s.add(VPCA + "instances", "GAUGE", "INT64", "1", VPC, i, _int(n))
    mean = 91.0 if cascade else 18.0 * w.diurnal(i)
    values = [min(100.0, max(1.0, rng.gauss(mean, 3.0))) for _ in range(n)]
    s.add(
        VPCA + "cpu/utilizations",
        "GAUGE",
        "DISTRIBUTION",
        "%",
        VPC,
        i,
        {"distributionValue": distribution(values, PERCENT_BUCKETS)},
    )
    base = 2_400_000 * w.diurnal(i) * (3.2 if cascade else 1.0)
    for metric, factor in (("sent_bytes_count", 1.0), ("received_bytes_count", 1.7)):
        s.add(
            VPCA + metric,
            "DELTA",
            "INT64",
            "By",
            VPC,
            i,
            _int(int(base * factor * rng.uniform(0.9, 1.1))),
        )


def generate_time_series(
    end: datetime | None = None, hours: int = 24, seed: int = 1278
) -> list[dict]:
    """Monitoring v3 TimeSeries dicts (REST JSON) for the window, one point per minute."""
    w = _Window(timeline(end, hours))
    rng = random.Random(f"demo-metrics/{seed}")
    s = _Series(w)
    for i in range(w.minutes):
        _cloud_run(s, w, rng, i)
        _cloud_sql(s, w, rng, i)
        _connector(s, w, rng, i)
    return s.render()
