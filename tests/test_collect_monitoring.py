"""The Monitoring collector with MetricServiceClient against the emulator's gRPC server:
paging, stored values, faults, gaps, and the signals computed from the stored points."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from forensics.clock import FastForwardClock
from forensics.config import Thresholds
from forensics.emulator.faults import FaultPlan
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.store import Store
from tests import gcp_data as g

RUN = "run.googleapis.com/"
SQL = "cloudsql.googleapis.com/database/"
VPC = "vpcaccess.googleapis.com/connector/"
MEMORY = RUN + "container/memory/utilizations"
MINUTES = 120


def minute(m: int) -> datetime:
    return g.START + timedelta(minutes=m)


def series() -> list[dict[str, Any]]:
    """Two hours of metrics with planted crossings (and near misses) at known minutes."""
    api_memory = [[0.5, 0.9] if 10 <= m < 14 else [0.5, 0.6] for m in range(MINUTES)]
    auth_memory = [[0.95] if 40 <= m < 42 else [0.4] for m in range(MINUTES)]  # 2 min: no
    app = [70 if 30 <= m < 32 else 40 for m in range(MINUTES)]
    api_active = [3 if 50 <= m < 53 else 2 for m in range(MINUTES)]  # not during the peak
    cpu = [[95.0, 93.0] if 70 <= m < 74 else [20.0, 22.0] for m in range(MINUTES)]
    instances = [3 if m >= 60 else 2 for m in range(MINUTES)]
    return [
        g.utilization_series(MEMORY, g.run_resource("api"), api_memory),
        g.utilization_series(MEMORY, g.run_resource("auth"), auth_memory),
        g.utilization_series(
            RUN + "container/cpu/utilizations", g.run_resource("api"), [[0.2]] * MINUTES
        ),
        g.gauge_series(
            SQL + "postgresql/num_backends",
            g.SQL_RESOURCE,
            app,
            value_type="INT64",
            labels={"database": "app"},
        ),
        g.gauge_series(
            SQL + "postgresql/num_backends",
            g.SQL_RESOURCE,
            [12] * MINUTES,
            value_type="INT64",
            labels={"database": "auth"},
        ),
        g.gauge_series(
            RUN + "container/instance_count",
            g.run_resource("api"),
            api_active,
            value_type="INT64",
            labels={"state": "active"},
        ),
        g.gauge_series(
            RUN + "container/instance_count",
            g.run_resource("auth"),
            [1] * MINUTES,
            value_type="INT64",
            labels={"state": "active"},
        ),
        g.utilization_series(
            VPC + "cpu/utilizations", g.CONNECTOR_RESOURCE, cpu, unit="%", percent=True
        ),
        g.gauge_series(VPC + "instances", g.CONNECTOR_RESOURCE, instances, value_type="INT64"),
        g.gauge_series("run.googleapis.com/unlisted_metric", g.run_resource("api"), [1.0] * 5),
    ]


SERIES = series()
LISTED = [s for s in SERIES if s["metric"]["type"] != "run.googleapis.com/unlisted_metric"]
POINTS = sum(len(s["points"]) for s in LISTED)


def emulator(**faults: Any) -> Emulator:
    settings = EmulatorSettings(monitoring_faults=FaultPlan(**faults))
    return Emulator([], SERIES, clock=FastForwardClock(), settings=settings)


def collect(store: Store, em: Emulator, **settings: Any) -> Any:
    return g.collect_from(store, em, logs=False, **settings)


def signals(store: Store) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in store.query("SELECT * FROM signals ORDER BY start").to_dicts():
        out.setdefault(row["signal"], []).append(row)
    return out


def test_metrics_are_paged_stored_once_and_not_pulled_again(store: Store) -> None:
    with emulator() as em:
        report = collect(store, em, metrics_page_size=40)
        calls = report.monitoring_calls.calls
        again = collect(store, em, metrics_page_size=40)
    assert store.scalar("SELECT count(*) FROM metric_points") == POINTS
    per_type = {s["metric"]["type"] for s in LISTED}
    assert calls > len(per_type) + 10  # several pages per metric type
    assert len(em.monitoring.requests) == calls  # the re-run called nothing: all covered
    assert again.monitoring_calls.calls == 0
    distinct = store.scalar(
        "SELECT count(*) FROM (SELECT DISTINCT metric_type, point_time, "
        "resource_labels::VARCHAR, metric_labels::VARCHAR FROM metric_points)"
    )
    assert distinct == POINTS


def test_point_values_keep_what_a_reviewer_needs(store: Store) -> None:
    with emulator() as em:
        collect(store, em)
    row = store.query(
        "SELECT * FROM metric_points WHERE metric_type = ? AND service = 'api' AND point_time = ?",
        [MEMORY, minute(11)],
    ).to_dicts()[0]
    assert row["value_kind"] == "distribution" and row["value_count"] == 2
    assert abs(row["value"] - 0.7) < 1e-9  # the mean
    assert 0.86 <= row["value_max"] <= 0.9  # a sample was at least this (bucket floor)
    assert row["start_time"] == minute(10) and row["unit"] == "10^2.%"
    backends = store.query(
        "SELECT value, value_kind, start_time, point_time FROM metric_points "
        "WHERE metric_type = ? AND json_extract_string(metric_labels, '$.database') = 'app' "
        "ORDER BY point_time",
        [SQL + "postgresql/num_backends"],
    ).to_dicts()
    assert [b["value"] for b in backends[29:33]] == [40.0, 70.0, 70.0, 40.0]
    assert backends[0]["value_kind"] == "int64"


def test_signals_fire_on_the_planted_crossings_only(store: Store) -> None:
    with emulator() as em:
        report = collect(store, em)
    found = signals(store)
    memory = found.pop("capacity/run-memory-high")
    assert [(m["service"], m["start"], m["end"]) for m in memory] == [
        ("api", minute(10), minute(14))  # auth's two minutes at 95% are not sustained
    ]
    assert 0.85 <= memory[0]["peak"] <= 0.9 and memory[0]["threshold"] == 0.85
    conns = found.pop("capacity/cloudsql-connections-high")
    assert [(c["service"], c["start"], c["end"], c["peak"]) for c in conns] == [
        ("demo-proj:pg-main", minute(31), minute(32), 82.0)  # 70 + 12 >= 80% of 100
    ]
    pool = json.loads(conns[0]["details"])
    assert (pool["active_instances"], pool["potential_connections"]) == (3, 75)  # api 2 + auth 1
    cpu = found.pop("capacity/vpc-connector-cpu-saturated")
    assert [(c["service"], c["start"], c["end"]) for c in cpu] == [
        ("conn-1", minute(70), minute(74))
    ]
    scale = found.pop("capacity/vpc-connector-scale-out")
    assert [(s["start"], s["end"], s["peak"], s["threshold"]) for s in scale] == [
        (minute(61), minute(MINUTES), 3.0, 2.0)
    ]
    assert found == {}  # nothing else: the CPU never crossed 90%
    assert report.signals == 4


def test_thresholds_come_from_the_configuration(store: Store) -> None:
    strict = Thresholds(
        run_memory_utilization=0.95, cloudsql_max_connections=200, sustained_minutes=1
    )
    with emulator() as em:
        collect(store, em, thresholds=strict)
    found = signals(store)
    assert [m["service"] for m in found["capacity/run-memory-high"]] == ["auth"]  # 1 min now
    assert "capacity/cloudsql-connections-high" not in found  # 82 < 160


def test_resource_exhausted_and_unavailable_storms_lose_nothing(store: Store) -> None:
    with emulator(rate_429=0.4, burst_503_every=3, burst_503_length=2, seed=9) as em:
        report = collect(store, em, metrics_page_size=60, max_attempts=12)
    assert not report.failed
    calls = report.monitoring_calls
    assert calls.throttled > 0 and calls.unavailable > 0
    assert store.scalar("SELECT count(*) FROM metric_points") == POINTS


def test_a_metric_that_keeps_failing_is_a_gap(store: Store) -> None:
    with emulator(outage=(MEMORY,)) as em:
        report = collect(store, em, max_attempts=2)
    assert [o.source for o in report.failed] == [f"monitoring:demo-proj:{MEMORY}"]
    gaps = store.query('SELECT source, start, "end" FROM data_gaps').to_dicts()
    assert gaps == [{"source": f"monitoring:demo-proj:{MEMORY}", "start": g.START, "end": g.END}]
    assert "capacity/run-memory-high" not in signals(store)
    assert store.scalar("SELECT count(*) FROM metric_points WHERE metric_type = ?", [MEMORY]) == 0
