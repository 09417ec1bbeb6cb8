"""Small, exact Cloud Logging and Cloud Monitoring data for the collector tests.

The demo generator makes realistic days; these builders make data whose every count a test can
compute: entry ``i`` of a stream has a known time, source, severity and text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

PROJECT = "demo-proj"
START = datetime(2025, 9, 15, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=24)
SERVICES = ("api", "auth")
SQL_INSTANCE = "pg-main"
CONNECTOR = "conn-1"


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_name(log_id: str, project: str = PROJECT) -> str:
    return f"projects/{project}/logs/{log_id.replace('/', '%2F')}"


def run_resource(service: str, project: str = PROJECT) -> dict[str, Any]:
    return {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": project,
            "service_name": service,
            "revision_name": f"{service}-00001-abc",
            "location": "europe-west1",
            "configuration_name": service,
        },
    }


SQL_RESOURCE = {
    "type": "cloudsql_database",
    "labels": {"project_id": PROJECT, "database_id": f"{PROJECT}:{SQL_INSTANCE}", "region": "x"},
}
CONNECTOR_RESOURCE = {
    "type": "vpc_access_connector",
    "labels": {"project_id": PROJECT, "connector_name": CONNECTOR, "location": "europe-west1"},
}


def entry(i: int, at: datetime, kind: str, service: str = "api") -> dict[str, Any]:
    """One LogEntry of a given kind: request, request5xx, stdout, error, default_tb, system,
    audit, sql, sql_fatal, connector."""
    base: dict[str, Any] = {
        "timestamp": iso(at),
        "receiveTimestamp": iso(at + timedelta(milliseconds=80)),
        "insertId": f"{kind}-{i:07d}",
        "resource": run_resource(service),
        "labels": {"instanceId": f"00ab{i % 7}"},
    }
    if kind in ("request", "request5xx"):
        status = 503 if kind == "request5xx" else 200
        return base | {
            "logName": log_name("run.googleapis.com/requests"),
            "severity": "ERROR" if status >= 500 else "INFO",
            "httpRequest": {
                "requestMethod": "GET",
                "requestUrl": f"https://x/{i}",
                "status": status,
                "latency": "0.120s",
            },
        }
    if kind == "stdout":
        return base | {
            "logName": log_name("run.googleapis.com/stdout"),
            "severity": "INFO",
            "jsonPayload": {"message": f"handled job {i}", "n": i},
        }
    if kind == "error":
        return base | {
            "logName": log_name("run.googleapis.com/stderr"),
            "severity": "ERROR",
            "textPayload": f"ValueError: bad input {i}",
        }
    if kind == "default_tb":
        return base | {
            "logName": log_name("run.googleapis.com/stderr"),
            "textPayload": 'Traceback (most recent call last):\n  File "app.py"',
        }
    if kind == "system":
        return base | {
            "logName": log_name("run.googleapis.com/varlog/system"),
            "severity": "INFO",
            "textPayload": "Starting new instance. Reason: AUTOSCALING",
        }
    if kind == "audit":
        return base | {
            "logName": log_name("cloudaudit.googleapis.com/activity"),
            "severity": "NOTICE",
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "serviceName": "run.googleapis.com",
                "methodName": "google.cloud.run.v1.Services.ReplaceService",
            },
        }
    if kind in ("sql", "sql_fatal"):
        text = (
            "FATAL:  sorry, too many clients already"
            if kind == "sql_fatal"
            else ("LOG:  checkpoint starting: time")
        )
        return base | {
            "resource": SQL_RESOURCE,
            "logName": log_name("cloudsql.googleapis.com/postgres.log"),
            "severity": "ERROR" if kind == "sql_fatal" else "INFO",
            "textPayload": f"2025-09-15 10:00:05.017 UTC [{i}]: [1-1] db=app {text}",
        }
    if kind == "connector":
        return base | {
            "resource": CONNECTOR_RESOURCE,
            "logName": log_name("cloudaudit.googleapis.com/activity"),
            "severity": "NOTICE",
            "protoPayload": {
                "serviceName": "vpcaccess.googleapis.com",
                "methodName": "google.cloud.vpcaccess.v1.VpcAccessService.UpdateConnector",
                "resourceName": f"projects/{PROJECT}/locations/x/connectors/{CONNECTOR}",
            },
        }
    raise ValueError(kind)


# One cycle of 100 entries: mostly healthy requests and app lines, a few failure candidates.
CYCLE = (
    ["request"] * 70
    + ["stdout"] * 20
    + ["request5xx"] * 2
    + ["error"] * 2
    + ["default_tb"]
    + ["system"]
    + ["sql"] * 2
    + ["sql_fatal"]
    + ["audit"]
)
CANDIDATE_KINDS = {"request5xx", "error", "default_tb", "system", "sql_fatal", "audit"}
SQL_KINDS = {"sql", "sql_fatal"}


def day(n: int, start: datetime = START, hours: float = 24) -> Iterator[dict[str, Any]]:
    """``n`` entries spread evenly over the window, cycling through CYCLE, two services.

    Every 7th entry shares the previous entry's timestamp, so ties are exercised.
    """
    step = timedelta(hours=hours) / n
    for i in range(n):
        at = start + step * (i - 1 if i % 7 == 6 else i)
        kind = CYCLE[i % len(CYCLE)]
        yield entry(i, at, kind, SERVICES[(i // 3) % 2])


def ids(entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(logName, insertId) pairs, the identity the collectors keep."""
    return {(e["logName"], e["insertId"]) for e in entries}


def gauge_series(
    metric_type: str,
    resource: dict[str, Any],
    values: list[float],
    *,
    value_type: str = "DOUBLE",
    unit: str = "1",
    labels: dict[str, str] | None = None,
    start: datetime = START,
) -> dict[str, Any]:
    """A GAUGE series, one point per minute from ``start``, newest first (as the API sends)."""
    points = []
    for m, v in enumerate(values):
        end = iso(start + timedelta(minutes=m + 1))
        value = {"int64Value": str(int(v))} if value_type == "INT64" else {"doubleValue": v}
        points.append({"interval": {"startTime": end, "endTime": end}, "value": value})
    return {
        "metric": {"type": metric_type, "labels": labels or {}},
        "resource": resource,
        "metricKind": "GAUGE",
        "valueType": value_type,
        "unit": unit,
        "points": list(reversed(points)),
    }


def utilization_series(
    metric_type: str,
    resource: dict[str, Any],
    samples: list[list[float]],
    *,
    unit: str = "10^2.%",
    start: datetime = START,
    percent: bool = False,
) -> dict[str, Any]:
    """A DELTA distribution series: per minute, one sample per instance.

    Buckets as Cloud Run's (fractions) or, with ``percent``, as the connector's (0-100).
    """
    growth, scale, n = (1.1, 1.0, 50) if percent else (10 ** (1 / 50), 0.01, 100)
    points = []
    for m, values in enumerate(samples):
        counts = [0] * (n + 2)
        for v in values:
            i = 0 if v < scale else min(n + 1, 1 + int(math.log(v / scale) / math.log(growth)))
            counts[i] += 1
        while counts and counts[-1] == 0:
            counts.pop()
        points.append(
            {
                "interval": {
                    "startTime": iso(start + timedelta(minutes=m)),
                    "endTime": iso(start + timedelta(minutes=m + 1)),
                },
                "value": {
                    "distributionValue": {
                        "count": str(len(values)),
                        "mean": sum(values) / len(values),
                        "bucketOptions": {
                            "exponentialBuckets": {
                                "numFiniteBuckets": n,
                                "growthFactor": growth,
                                "scale": scale,
                            }
                        },
                        "bucketCounts": [str(c) for c in counts],
                    }
                },
            }
        )
    return {
        "metric": {"type": metric_type, "labels": {}},
        "resource": resource,
        "metricKind": "DELTA",
        "valueType": "DISTRIBUTION",
        "unit": unit,
        "points": list(reversed(points)),
    }


def collect_from(
    store: Any,
    emulator: Any,
    *,
    since: datetime = START,
    until: datetime = END,
    clock: Any = None,
    resources: Any = None,
    thresholds: Any = None,
    signatures: Any = None,
    seed: int = 7,
    now: datetime | None = None,
    **settings: Any,
) -> Any:
    """Run the real collectors against ``emulator`` into ``store`` (in-process, same clock);
    ``now`` is the wall-clock time the collection believes it runs at (default: now)."""
    import random

    from forensics.collectors.collect import CollectRequest, collect, make_clients
    from forensics.config import CollectSettings, Resources, Thresholds
    from forensics.timeutil import Window

    options = {"settle_minutes": 0.0, "context_seconds": 0.0} | settings
    request = CollectRequest(
        PROJECT,
        Window(since, until),
        resources or Resources(),
        CollectSettings(
            logging_endpoint=emulator.logging_endpoint,
            monitoring_endpoint=emulator.monitoring_endpoint,
            **options,
        ),
        thresholds or Thresholds(),
        signatures,
    )
    clients = make_clients(request)
    try:
        return collect(
            store,
            request,
            clients=clients,
            clock=clock or emulator.clock,
            rng=random.Random(seed),
            now=now,
        )
    finally:
        clients.close()


def stored_ids(store: Any) -> list[tuple[str, str]]:
    """(logName as stored URL-encoded, insertId) of every stored entry, duplicates kept."""
    rows = store.conn.execute(
        "SELECT json_extract_string(raw, '$.logName'), insert_id FROM log_entries"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]
