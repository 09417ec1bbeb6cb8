"""Cloud Monitoring time series (REST JSON, newest point first) from a scenario's tallies.

Kinds, value types and units follow gcp-wire-facts.md §5-6: request_count DELTA INT64 per
response code; instance_count GAUGE INT64 (state active); memory utilizations DELTA
DISTRIBUTION in 10^2.% (fractions); Cloud SQL num_backends GAUGE INT64; connector instances
GAUGE INT64 (connectors never scale in).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from forensics.scenarios.model import Scenario
from forensics.scenarios.world import REGION, Rendered, Tally, iso, minutes

__all__ = ["metric_series"]


def _run_resource(s: Scenario, service: str, revision: str) -> dict[str, Any]:
    return {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": s.project,
            "service_name": service,
            "revision_name": revision,
            "location": REGION,
            "configuration_name": service,
        },
    }


def _series(
    metric: str, labels: dict[str, str], resource: dict[str, Any], kind: str, vtype: str,
    unit: str, points: list[dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    return {
        "metric": {"type": metric, "labels": labels},
        "resource": resource,
        "metricKind": kind,
        "valueType": vtype,
        "unit": unit,
        "points": sorted(points, key=lambda p: p["interval"]["endTime"], reverse=True),
    }


def _point(minute: datetime, value: dict[str, Any], delta: bool) -> dict[str, Any]:
    end = iso(minute + timedelta(minutes=1)).replace(".000000Z", "Z")
    start = iso(minute).replace(".000000Z", "Z") if delta else end
    return {"interval": {"startTime": start, "endTime": end}, "value": value}


_BOUNDS = [round(0.05 * i, 2) for i in range(1, 21)]


def _distribution(value: float, count: int) -> dict[str, Any]:
    counts = [0] * (len(_BOUNDS) + 1)
    counts[sum(1 for b in _BOUNDS if b <= value)] = count
    return {
        "distributionValue": {
            "count": str(count),
            "mean": value,
            "bucketOptions": {"explicitBuckets": {"bounds": _BOUNDS}},
            "bucketCounts": [str(c) for c in counts],
        }
    }


def metric_series(s: Scenario, tally: Tally, out: Rendered) -> None:
    """Append every series of the scenario to ``out.series``."""
    run = "run.googleapis.com/"
    for (svc, rev, code), per_minute in tally.requests.items():
        labels = {"response_code": str(code), "response_code_class": f"{code // 100}xx"}
        points = [_point(m, {"int64Value": str(n)}, True) for m, n in per_minute.items()]
        out.series.append(
            _series(
                run + "request_count",
                labels,
                _run_resource(s, svc, rev),
                "DELTA",
                "INT64",
                "1",
                points,
            )
        )
    for (svc, rev), per_minute in tally.instances.items():
        points = [_point(m, {"int64Value": str(n)}, False) for m, n in per_minute.items()]
        out.series.append(
            _series(
                run + "container/instance_count",
                {"state": "active"},
                _run_resource(s, svc, rev),
                "GAUGE",
                "INT64",
                "1",
                points,
            )
        )
        memory = tally.memory.get((svc, rev), {})
        mem_points = [
            _point(m, _distribution(memory.get(m, 0.42), max(n, 1)), True)
            for m, n in per_minute.items()
        ]
        out.series.append(
            _series(
                run + "container/memory/utilizations",
                {"container_name": f"{svc}-1"},
                _run_resource(s, svc, rev),
                "DELTA",
                "DISTRIBUTION",
                "10^2.%",
                mem_points,
            )
        )
    _cloudsql_series(s, out)
    _connector_series(s, out)


def _cloudsql_series(s: Scenario, out: Rendered) -> None:
    db = f"{s.project}:{s.sql_instance}"
    resource = {
        "type": "cloudsql_database",
        "labels": {"project_id": s.project, "database_id": db, "region": REGION},
    }
    high = [f for f in s.failures if f.kind == "too-many-clients"]
    points = []
    for m in minutes(s.since, s.until):
        busy = any(f.start <= m < f.end for f in high)
        n = (
            int(next((f.get("backends", 100) for f in high if f.start <= m < f.end), 0))
            if busy
            else s.sql_backends
        )
        points.append(_point(m, {"int64Value": str(n)}, False))
    out.series.append(
        _series(
            "cloudsql.googleapis.com/database/postgresql/num_backends",
            {"database": "netra_staging"},
            resource,
            "GAUGE",
            "INT64",
            "1",
            points,
        )
    )


def _connector_series(s: Scenario, out: Rendered) -> None:
    resource = {
        "type": "vpc_access_connector",
        "labels": {"project_id": s.project, "connector_name": s.connector, "location": REGION},
    }
    outs = [f for f in s.failures if f.kind == "connector-scale-out"]
    points = []
    for m in minutes(s.since, s.until):
        n = s.connector_instances
        for f in outs:
            if f.start <= m:  # connectors never scale in
                n = max(n, int(f.get("to", s.connector_instances + 1)))
        points.append(_point(m, {"int64Value": str(n)}, False))
    out.series.append(
        _series(
            "vpcaccess.googleapis.com/connector/instances",
            {},
            resource,
            "GAUGE",
            "INT64",
            "1",
            points,
        )
    )
