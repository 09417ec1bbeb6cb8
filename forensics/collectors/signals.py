"""Signals from metrics: threshold crossings with a time range, stored like signature matches.

Usage:
  ``compute_signals(store, thresholds)`` recomputes the whole ``signals`` table from
  ``metric_points`` in one transaction: signals are derived data, so re-running after any
  collection (overlapping windows included) gives the same rows, never duplicates.

The signals (thresholds from forensics.toml [thresholds]):
  - capacity/run-memory-high, capacity/run-cpu-high: a Cloud Run revision's utilization at or
    over the threshold for ``sustained_minutes`` consecutive minutes;
  - capacity/cloudsql-connections-high: backends summed over databases reach
    ``cloudsql_connections_ratio`` of ``cloudsql_max_connections``;
    its details carry the pool arithmetic at that time: the most active Cloud Run instances
    and what their pools can open, instances x (pool_size + max_overflow) (10 + 15 each and a
    limit of 100 means four instances can exhaust the database);
  - capacity/vpc-connector-cpu-saturated: connector CPU over the threshold, sustained;
  - capacity/vpc-connector-scale-out: the connector runs more instances than its fewest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from forensics.config import Thresholds
from forensics.sql import run_named
from forensics.store import Store, transaction

__all__ = ["ThresholdSignal", "compute_signals", "threshold_signals"]

RUN = "run.googleapis.com/"
CLOUDSQL = "cloudsql.googleapis.com/database/"
VPC = "vpcaccess.googleapis.com/connector/"


@dataclass(frozen=True)
class ThresholdSignal:
    """A signal that fires while a metric stays at or over a threshold."""

    signal: str
    metric_type: str
    threshold: float
    min_points: int
    sum_series: bool = False  # sum a resource's series per minute (else take the max)
    note: str = ""

    above_baseline: bool = False  # fire above the resource's smallest value instead

    def params(self) -> dict[str, Any]:
        return {
            "metric_type": self.metric_type,
            "threshold": self.threshold,
            "min_points": self.min_points,
            "sum_series": self.sum_series,
            "above_baseline": self.above_baseline,
        }


def threshold_signals(t: Thresholds) -> list[ThresholdSignal]:
    """The threshold signals for these settings."""
    return [
        ThresholdSignal(
            "capacity/run-memory-high",
            RUN + "container/memory/utilizations",
            t.run_memory_utilization,
            t.sustained_minutes,
        ),
        ThresholdSignal(
            "capacity/run-cpu-high",
            RUN + "container/cpu/utilizations",
            t.run_cpu_utilization,
            t.sustained_minutes,
        ),
        ThresholdSignal(
            "capacity/cloudsql-connections-high",
            CLOUDSQL + "postgresql/num_backends",
            t.cloudsql_connections_ratio * t.cloudsql_max_connections,
            1,
            sum_series=True,
            note=f"backends >= {t.cloudsql_connections_ratio:.0%} of "
            f"max_connections {t.cloudsql_max_connections}",
        ),
        ThresholdSignal(
            "capacity/vpc-connector-cpu-saturated",
            VPC + "cpu/utilizations",
            t.connector_cpu_utilization,
            t.sustained_minutes,
        ),
        ThresholdSignal(
            "capacity/vpc-connector-scale-out",
            VPC + "instances",
            0.0,
            1,
            above_baseline=True,
            note="more connector instances than the fewest seen (connectors never scale in)",
        ),
    ]


_INSERT = (
    'INSERT INTO signals (signal, service, resource_type, metric_type, start, "end", peak, '
    "threshold, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _details(row: dict[str, Any], note: str, extra: dict[str, Any]) -> str:
    labels = json.loads(row["resource_labels"]) if row["resource_labels"] else {}
    details = {"resource_labels": labels, "points": row["points"]}
    return json.dumps(details | ({"note": note} if note else {}) | extra)


_ACTIVE_INSTANCES = """
SELECT max(n) FROM (
    SELECT date_trunc('minute', point_time) AS minute, sum(value) AS n
    FROM metric_points
    WHERE metric_type = ? AND json_extract_string(metric_labels, '$.state') = 'active'
      AND point_time BETWEEN ? AND ?
    GROUP BY ALL
)
"""


def _pool_math(store: Store, t: Thresholds, start: Any, end: Any) -> dict[str, Any]:
    """How many connections the Cloud Run pools could open while backends were high."""
    active = store.scalar(_ACTIVE_INSTANCES, [RUN + "container/instance_count", start, end])
    if active is None:
        return {}
    per_instance = t.pool_size + t.max_overflow
    return {
        "active_instances": int(active),
        "pool_per_instance": f"{t.pool_size}+{t.max_overflow}",
        "potential_connections": int(active) * per_instance,
        "max_connections": t.cloudsql_max_connections,
    }


def compute_signals(store: Store, thresholds: Thresholds) -> int:
    """Rebuild ``signals`` from ``metric_points``; returns the number of signals."""
    rows: list[list[Any]] = []
    for spec in threshold_signals(thresholds):
        for r in run_named(store, "minute_metric_runs", spec.params()).to_dicts():
            threshold = r["baseline"] if spec.above_baseline else spec.threshold
            extra = (
                _pool_math(store, thresholds, r["start"], r["end"])
                if spec.signal == "capacity/cloudsql-connections-high"
                else {}
            )
            rows.append(
                [
                    spec.signal,
                    r["service"],
                    r["resource_type"],
                    spec.metric_type,
                    r["start"],
                    r["end"],
                    r["peak"],
                    threshold,
                    _details(r, spec.note, extra),
                ]
            )
    conn = store.conn
    with transaction(conn):
        conn.execute("DELETE FROM signals")
        if rows:
            conn.executemany(_INSERT, rows)
    return len(rows)
