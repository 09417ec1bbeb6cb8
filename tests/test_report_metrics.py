"""Reports with Cloud Monitoring data: metric overlays, 5xx impact from request_count when no
request logs were pulled, metric points among the sources, and recorded data gaps."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from forensics.derived import forget
from forensics.report import render
from forensics.store import Store, open_store
from tests.reportdata import (
    GOLDEN_END,
    GOLDEN_WINDOW,
    build_store,
    load_demo_metrics,
)

GAP_SOURCE = "logging:netra-staging:run"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_store(tmp_path_factory.mktemp("metrics") / "store.duckdb", entries=3000)
    with open_store(path) as store:
        load_demo_metrics(store)
        # Pushdown collection pulls failure candidates, not every request log: volumes then
        # come from metrics. And one source failed for an hour (as the collector records it).
        store.conn.execute("DELETE FROM log_entries WHERE http_status IS NOT NULL")
        forget(store)  # entries edited in place: the per-run derived rows no longer describe them
        store.conn.execute(
            "INSERT INTO data_gaps VALUES ($s, $start, $end, '429 quota exhausted after 6 "
            "retries', $end)",
            {"s": GAP_SOURCE, "start": GOLDEN_END - timedelta(hours=5), "end": GOLDEN_END},
        )
    return path


def test_impact_comes_from_request_count_metrics(
    report_store: Store, report: dict[str, Any]
) -> None:
    failed = report_store.scalar(
        "SELECT sum(value) FROM metric_points WHERE metric_type = "
        "'run.googleapis.com/request_count' AND (metric_labels->>'response_code_class') = '5xx' "
        "AND point_time > $since AND point_time <= $until",
        GOLDEN_WINDOW.params(),
    )
    impact = report["impact"]
    assert impact["source"].startswith("request_count metrics")
    assert impact["failed_requests"] == failed > 0
    assert impact["cite"]["query"] == "bucket_service_request_metrics"
    starts = [e for i in report["incidents"] for e in i["postmortem"]["events"]]
    metric_starts = [e for e in starts if e["kind"] == "impact_start"]
    assert metric_starts and all(
        e["cite"]["query"] == "bucket_service_request_metrics" for e in metric_starts
    )


def test_metric_overlays_are_drawn(report: dict[str, Any]) -> None:
    series = {(m["service"], m["label"]): m for m in report["chart"]["metrics"]}
    memory = series[("netra-backend-staging", "memory utilization")]
    assert memory["scale_max"] == 1.0 and 0.0 < memory["peak"] <= 1.0
    backends = series[("netra-staging:staging-shared-postgres", "Cloud SQL backends")]
    assert backends["scale_max"] == backends["peak"] > 1
    html = render(report, "html")
    overlays = re.findall(r'<polyline points="[^"]+" stroke="[^"]+" stroke-dasharray', html)
    assert len(overlays) == len(report["chart"]["metrics"]) >= 3
    assert "memory utilization (peak" in html


def test_sources_count_metric_points(report: dict[str, Any]) -> None:
    sources = {s["source"]: s for s in report["sources"]}
    assert sources["monitoring:demo"]["points_in_window"] > 30_000
    assert sources["demo-export.jsonl"]["entries_in_window"] > 0


def test_data_gaps_are_stated_in_every_format(report: dict[str, Any]) -> None:
    gaps = report["data_gaps"]
    assert [g["source"] for g in gaps] == [GAP_SOURCE]
    assert gaps[0]["cite"]["query"] == "window_source_gaps"
    assert "Incomplete data." in render(report, "html")
    markdown = render(report, "md")
    assert "> **Incomplete data.**" in markdown and GAP_SOURCE in markdown
    assert json.loads(render(report, "json"))["data_gaps"][0]["reason"].startswith("429")
