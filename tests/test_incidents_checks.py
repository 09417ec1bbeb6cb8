"""The seeds' checks measured honestly: startups from an instance's own start -> ready pair, and
health checks that fail on 5xx as well as on timeouts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from forensics.derived import forget
from forensics.incidents import build_analysis, load_registry
from forensics.incidents.checks import STARTUP_PAIR_SECONDS
from forensics.ingest import ingest_files
from forensics.store import Store, open_store
from forensics.timeutil import Window
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging
from tests.incidents_support import DEMO_WINDOW, demo_registry, demo_store_copy

READY = "%Application startup complete%"
START = "Starting new instance%"


def check(result: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in result["checks"] if c["id"] == check_id)


def _late_ready_instance(store: Store) -> tuple[str, datetime, datetime]:
    """An instance whose log has a ready line well after its start (a worker restart)."""
    row = store.conn.execute(
        "WITH s AS (SELECT instance_id, min(timestamp) AS started FROM entries "
        "WHERE log_id = 'run.googleapis.com/varlog/system' AND message LIKE $start "
        "AND timestamp >= $since AND timestamp < $until GROUP BY instance_id) "
        "SELECT s.instance_id, s.started, max(e.timestamp) AS late FROM s JOIN entries AS e "
        "USING (instance_id) WHERE e.message LIKE $ready GROUP BY ALL "
        "HAVING max(e.timestamp) > s.started + INTERVAL 1 HOUR ORDER BY s.started LIMIT 1",
        {"start": START, "ready": READY, **DEMO_WINDOW.params()},
    ).fetchone()
    assert row is not None, "the demo has no instance whose worker restarts an hour later"
    return row[0], row[1], row[2]


def test_startup_pairs_a_start_only_with_its_own_ready_line(tmp_path: Path) -> None:
    """Pushdown collection pulls failures and the lines around them, not every INFO line: an
    instance's own "Application startup complete." may be missing while one of a worker
    restart hours later is there as context. That is no 3-hour startup."""
    with open_store(demo_store_copy(tmp_path)) as store:
        instance, started, late = _late_ready_instance(store)
        # what a pushdown pull leaves out: the instance's own ready line(s) near its start
        store.conn.execute(
            "DELETE FROM log_entries WHERE instance_id = $i AND message LIKE $ready "
            "AND timestamp < $late",
            {"i": instance, "ready": READY, "late": late},
        )
        forget(store)  # entries edited in place: the per-run derived rows no longer describe them
        result = build_analysis(store, DEMO_WINDOW, registry=demo_registry())
    startup = check(result, "startup")
    longest = max(d["max_s"] or 0 for d in startup["details"])
    assert (late - started) > timedelta(hours=1)
    assert longest < STARTUP_PAIR_SECONDS
    assert f"{(late - started).total_seconds():,.1f} s" not in startup["measured"]
    assert "same instance" in startup["source"]


DAY = Window(datetime(2025, 9, 16, tzinfo=UTC), datetime(2025, 9, 17, tzinfo=UTC))


@requires_real_staging
def test_health_check_fails_when_health_requests_answer_5xx(store: Store) -> None:
    """Real export, 2025-09-16: most /health requests answered 5xx (some logged with no latency
    at all), none took 10 s: a failing health check, not a passing one."""
    ingest_files(store, [REAL_STAGING_ENTRIES])
    health = store.conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE http_status >= 500) FROM entries "
        "WHERE log_id = 'run.googleapis.com/requests' "
        "AND regexp_extract(http_url, '^[A-Za-z]+://[^/]+(/[^?#]*)', 1) LIKE '/health%' "
        "AND timestamp >= $since AND timestamp < $until",
        DAY.params(),
    ).fetchone()
    assert health is not None
    total, failed = health
    assert total > 0 and failed > 0
    result = build_analysis(store, DAY, registry=load_registry(None))
    health_check = check(result, "health-latency")
    assert health_check["status"] == "fail"
    assert f"{failed:,} answered 5xx" in health_check["measured"]
    assert f"{total:,} /health* requests" in health_check["measured"]


def _line(n: int, when: datetime, **payload: Any) -> str:
    return json.dumps(
        {
            "timestamp": when.isoformat().replace("+00:00", "Z"),
            "insertId": f"conn-{n}",
            "severity": "INFO",
            "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {"service_name": "orders", "revision_name": "orders-00001-abc"},
            },
            **payload,
        }
    )


def test_db_connection_check_reads_connected_to_the_database_in(
    store: Store, tmp_path: Path
) -> None:
    """The documented form of a logged connection timing, "connected to the database in 2.3s"
    (the verb first, as most apps log it), is a timed attempt like "Database connected in 2.3s";
    it was not counted, so the check said no_data on a day of fast connections."""
    start = datetime(2025, 10, 2, 14, tzinfo=UTC)
    texts = [
        "connected to the database in 2.3s",
        "Connected to PostgreSQL in 120ms",
        "Database connected in 0.5s",
        "Successfully connected to the db after 12.5 s",
    ]
    export = tmp_path / "connections.jsonl"
    lines = [_line(i, start + timedelta(minutes=i), textPayload=t) for i, t in enumerate(texts)]
    lines.append(_line(9, start + timedelta(minutes=9), jsonPayload={"message": texts[0]}))
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_files(store, [export])
    window = Window(start, start + timedelta(hours=1))
    result = build_analysis(store, window, registry=load_registry(None))
    db = check(result, "db-connection")
    assert db["status"] == "fail"  # 12.5 s is over the 10 s target
    assert db["measured"].startswith(f"{len(lines)} timed attempts, 1 at or over 10 s")
    assert "longest 12.5 s" in db["measured"]
