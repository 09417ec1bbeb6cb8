"""Impact from complete denominators: request ratios from Monitoring's request_count, or from
request logs only when they were pulled in full; chart series with gaps where there is no data.

Pushdown collection pulls failing request logs only (httpRequest.status>=500): any ratio over
them is 100 % by construction, as `make demo` showed ("90 failed requests (5xx), 100.00% of 90").
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from forensics.collectors.filters import run_candidates
from forensics.derived import forget
from forensics.store import Store, open_store
from tests.reportdata import (
    GOLDEN_END,
    GOLDEN_WINDOW,
    build_store,
    load_demo_metrics,
    report_context,
)

PROJECT = "netra-staging"


def _as_pushdown_collected(store: Store) -> None:
    """What a pushdown pull leaves in the store: the 5xx request logs only, entries whose source
    is the Logging source (as the collector names it), and the checkpoint recording the
    candidate filter it sent."""
    store.conn.execute(
        "DELETE FROM log_entries WHERE http_status IS NOT NULL AND http_status < 500"
    )
    query = f'resource.type="cloud_run_revision" AND {run_candidates(PROJECT)}'
    store.conn.execute("UPDATE log_entries SET source = $s", {"s": f"logging:{PROJECT}:run"})
    forget(store)  # entries edited in place: the per-run derived rows no longer describe them
    since, until = GOLDEN_WINDOW.since, GOLDEN_WINDOW.until
    store.conn.execute(
        "INSERT INTO collect_checkpoints (source, project, scope_hash, query_hash, query, ranges, "
        "window_start, window_end, pages, items, status, covered_until, started, updated) "
        "VALUES ($s, $p, 'scope', 'query', $q, $r, $since, $until, 1, 1, 'complete', $until, "
        "$until, $until)",
        {
            "s": f"logging:{PROJECT}:run",
            "p": PROJECT,
            "q": query,
            "r": json.dumps([[since.isoformat(), until.isoformat()]]),
            "since": since,
            "until": until,
        },
    )


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full pull (every request log): the report fixtures' store."""
    return build_store(tmp_path_factory.mktemp("full") / "store.duckdb", entries=3000)


@pytest.fixture(scope="module")
def pushdown_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_store(tmp_path_factory.mktemp("impact") / "store.duckdb", entries=3000)
    with open_store(path) as store:
        _as_pushdown_collected(store)
    return path


def _failed_logs(store: Store) -> int:
    return int(
        store.scalar(
            "SELECT count(*) FROM entries WHERE http_status >= 500 AND timestamp >= $since "
            "AND timestamp < $until",
            GOLDEN_WINDOW.params(),
        )
    )


def test_pushdown_request_logs_give_no_ratio(pushdown_db: Path) -> None:
    with open_store(pushdown_db) as store:
        failed = _failed_logs(store)
        report = report_context(store)
    impact = report["impact"]
    assert failed > 0 and impact["failed_requests"] == failed
    assert impact["requests"] is None and impact["failed_ratio"] is None
    assert "pushdown" in impact["denominator"]
    five_xx = next(c for c in report["checks"] if c["id"] == "5xx-ratio")
    assert five_xx["status"] == "no_data" and "no complete request count" in five_xx["measured"]
    for row in report["chart"]["requests"]:
        assert row["ratio"] is None and row["requests"] is None
    events = [e for i in report["incidents"] for e in i["postmortem"]["events"]]
    starts = [e["label"] for e in events if e["kind"] == "impact_start"]
    assert starts and not [s for s in starts if "/" in s.split("(")[-1]]  # no "5/5 requests"


def test_metrics_are_the_denominator_when_collected(tmp_path: Path, pushdown_db: Path) -> None:
    path = tmp_path / "store.duckdb"
    path.write_bytes(pushdown_db.read_bytes())
    with open_store(path) as store:
        load_demo_metrics(store)
        metric = store.conn.execute(
            "SELECT sum(value), sum(value) FILTER (WHERE metric_labels->>'response_code_class' "
            "= '5xx') FROM metric_points WHERE metric_type = 'run.googleapis.com/request_count' "
            "AND point_time > $since AND point_time <= $until",
            GOLDEN_WINDOW.params(),
        ).fetchone()
        report = report_context(store)
    assert metric is not None
    total, failed = int(metric[0]), int(metric[1])
    impact = report["impact"]
    assert impact["source"].startswith("request_count metrics")
    assert (impact["requests"], impact["failed_requests"]) == (total, failed)
    assert impact["failed_ratio"] == round(failed / total, 4) < 1
    five_xx = next(c for c in report["checks"] if c["id"] == "5xx-ratio")
    worst = max((d for d in five_xx["details"] if d["ratio"] is not None), key=lambda d: d["ratio"])
    assert worst["source"] == "request_count metric"


def test_chart_series_have_gaps_where_there_is_no_data(report_store: Store, report: Any) -> None:
    chart = report["chart"]
    bucket = timedelta(seconds=chart["bucket_s"])
    n_buckets = -(-(GOLDEN_END - GOLDEN_WINDOW.since) // bucket)
    by_service: dict[str, list[dict[str, Any]]] = {}
    for row in chart["requests"]:
        by_service.setdefault(row["service"], []).append(row)
    assert by_service
    for rows in by_service.values():
        assert len(rows) == n_buckets  # every bucket, so a gap is a null, not a missing row
        for row in rows:
            if not row["requests"]:
                assert row["ratio"] is None
            else:
                assert row["ratio"] == round(row["failed"] / row["requests"], 4)
    gaps = [r for rows in by_service.values() for r in rows if r["requests"] is None]
    assert gaps, "the demo has quiet buckets: they must be nulls"


def _keep_ok_requests_in_one_hour(store: Store) -> None:
    """A filtered file export that kept successful requests of one hour only (a second,
    narrower export of the same day): some 2xx exist, but not across the window."""
    hour = GOLDEN_WINDOW.since + timedelta(hours=12)
    store.conn.execute(
        "DELETE FROM log_entries WHERE http_status IS NOT NULL AND http_status < 400 "
        "AND NOT (timestamp >= $a AND timestamp < $b)",
        {"a": hour, "b": hour + timedelta(hours=1)},
    )
    forget(store)  # entries edited in place: the per-run derived rows no longer describe them


@pytest.fixture(scope="module")
def sparse_ok_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_store(tmp_path_factory.mktemp("sparse") / "store.duckdb", entries=3000)
    with open_store(path) as store:
        _keep_ok_requests_in_one_hour(store)
    return path


def test_file_request_logs_not_shown_complete_give_no_ratio(sparse_ok_db: Path) -> None:
    """A file ingest is a denominator only when shown complete: successful requests in at
    least half the hours the service logged in. One hour of 2xx in a day is not that."""
    with open_store(sparse_ok_db) as store:
        report = report_context(store)
    impact = report["impact"]
    assert impact["failed_requests"] > 0
    assert impact["requests"] is None and impact["failed_ratio"] is None
    assert "file ingest" in impact["denominator"] and "not shown complete" in impact["denominator"]
    assert "no complete denominator" in impact["source"]
    five_xx = next(c for c in report["checks"] if c["id"] == "5xx-ratio")
    assert five_xx["status"] == "no_data"
    for inc in report["incidents"]:  # no incident counts "0 requests" from no source either
        pm = inc["postmortem"]["impact"]
        assert pm["requests"] is None and pm["denominator"], (inc["number"], pm)
        assert "no complete denominator" in pm["source"]


def test_full_file_request_logs_name_their_denominator(store_path: Path) -> None:
    """The demo export holds every request across the day: a ratio, saying where from."""
    with open_store(store_path) as store:
        report = report_context(store)
        total = int(
            store.scalar(
                "SELECT count(*) FROM entries WHERE log_id = 'run.googleapis.com/requests' "
                "AND timestamp >= $since AND timestamp < $until",
                GOLDEN_WINDOW.params(),
            )
        )
    impact = report["impact"]
    assert impact["requests"] == total and impact["failed_ratio"] is not None
    assert impact["source"].startswith("request logs") and "file ingest" in impact["source"]
    assert impact["denominator"] is None


def test_pushdown_impact_says_it_has_no_complete_denominator(pushdown_db: Path) -> None:
    with open_store(pushdown_db) as store:
        report = report_context(store)
    assert "no complete denominator" in report["impact"]["source"]
