"""The window stages' per-run tables: stored once, read by every window, never stale.

Each test compares what a window reads when the rows are stored (forensics.window_rows, written
by the writers) with the same window read from log_entries alone: every run current, one run
current and one not, none (rows forgotten), and an older store without the tables. The windows
start and end inside a minute and an hour, and the traffic ledger cuts minutes, so the partial
minutes and the cut minutes that minute_volume reads from the entries (forensics.minute_ledger's
per-minute counts stand for the rest), and the partial hours that the revisions' first entries
read from the entries (forensics.hour_spans), are exercised too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from forensics.derived import current_runs, forget
from forensics.hour_spans import HOUR_SPANS
from forensics.incidents.checks import STARTUP_PAIR_SECONDS
from forensics.incidents.evidence import attribution_params
from forensics.incidents.traffic import TrafficLedger
from forensics.ingest import ingest_files
from forensics.jsonable import jsonable
from forensics.minute_ledger import MINUTE_LEDGER
from forensics.pipeline import Sources, build_model, classify_pending, open_for_reading
from forensics.sql import run_named
from forensics.store import Store, open_store
from forensics.timeutil import Window
from forensics.window_rows import WINDOW_DERIVED

from .conftest import REAL_STAGING_ENTRIES

pytestmark = pytest.mark.skipif(
    not REAL_STAGING_ENTRIES.is_file(), reason=f"{REAL_STAGING_ENTRIES} is not here"
)

# The real export's busy hours, cut at odd instants inside its busiest minutes (none on a
# minute), so partial minutes at both ends hold entries.
WINDOWS = [
    Window(
        datetime(2025, 9, 16, 0, 41, 30, 250000, tzinfo=UTC),
        datetime(2025, 9, 16, 1, 42, 20, 5, tzinfo=UTC),
    ),
    Window(
        datetime(2025, 9, 7, 13, 22, 7, 123456, tzinfo=UTC),
        datetime(2025, 9, 17, tzinfo=UTC),
    ),
]


def _store(path: Path, tmp_path: Path) -> Path:
    """The real export as two ingest runs (odd and even lines), classified as ingest does."""
    lines = REAL_STAGING_ENTRIES.read_text(encoding="utf-8").splitlines(keepends=True)
    halves = [tmp_path / "first.jsonl", tmp_path / "second.jsonl"]
    halves[0].write_text("".join(lines[::2]), encoding="utf-8")
    halves[1].write_text("".join(lines[1::2]), encoding="utf-8")
    with open_store(path) as store:
        for half in halves:
            ingest_files(store, [half])
            classify_pending(store, Sources.load())
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("window-rows")
    return _store(tmp / "store.duckdb", tmp)


def _queries(store: Store, window: Window) -> dict[str, Any]:
    """Every named query that reads a per-run table, and the traffic cut inside the window."""
    params = {
        **window.params(),
        "bound_s": STARTUP_PAIR_SECONDS,
        "slow_s": 1.0,
        "limit": 50,
        "seed": 1,
    }
    out = {
        name: run_named(store, name, params).to_dicts()
        for name in (
            "hour_service_severity_volume",
            "window_source_coverage",
            "window_instance_startups",
            "window_db_connection_timings",
            "window_health_latency",
            "window_error_messages_top",
            "store_revision_first_seen",  # the hourly spans (forensics.hour_spans)
            "store_time_range",
            "store_audit_events",  # audit_entries, before the window too (its seed)
        )
    }
    # a look-back starting on an hour and ending inside one, and the reverse
    for since, until in (
        (window.since.replace(minute=0, second=0, microsecond=0), window.until),
        (window.since, window.until.replace(minute=0, second=0, microsecond=0)),
    ):
        out[f"first_seen {since} {until}"] = run_named(
            store, "store_revision_first_seen", {"since": since, "until": until}
        ).to_dicts()
    registry = Sources.load().registry
    out["store_symptom_causes"] = run_named(
        store,
        "store_symptom_causes",
        attribution_params(window.until, registry, window.since - timedelta(days=2)),
    ).to_dicts()
    # cuts in busy minutes: 00:42 and 01:41 on 2025-09-16, 13:23 on 2025-09-07
    busy = [
        datetime(2025, 9, 16, 0, 42, 31, tzinfo=UTC),
        datetime(2025, 9, 16, 1, 41, 2, tzinfo=UTC),
    ]
    cuts = [
        *busy,
        busy[0] + timedelta(microseconds=1),
        datetime(2025, 9, 7, 13, 23, 40, tzinfo=UTC),
    ]
    ledger = TrafficLedger.read(store, window.since, window.until, cuts)
    out["traffic"] = sorted(map(str, [*ledger.volume.to_dicts(), *ledger.metrics.to_dicts()]))
    return out


def _analysis(store: Store, window: Window) -> Any:
    return jsonable(build_model(store, window, Sources.load()).analysis())


READS: list[Callable[[Store, Window], Any]] = [_queries, _analysis]


def _read(path: Path, read: Callable[[Store, Window], Any]) -> list[Any]:
    with open_for_reading(path) as store:
        return [read(store, window) for window in WINDOWS]


@pytest.mark.parametrize("read", READS, ids=["queries", "analysis"])
def test_stored_rows_read_as_the_entries_do(db: Path, read: Callable[..., Any]) -> None:
    with open_for_reading(db) as store:
        assert all(current_runs(store, d) == [1, 2] for d in (MINUTE_LEDGER, *WINDOW_DERIVED))
    stored = _read(db, read)
    with open_store(db) as store:  # run 2 not current: stored rows for 1, computed for 2
        store.conn.execute("UPDATE derived_runs SET version = 'old' WHERE ingest_id = 2")
    assert _read(db, read) == stored
    with open_store(db) as store:
        forget(store)
    assert _read(db, read) == stored
    with open_store(db) as store:
        classify_pending(store, Sources.load())  # stored again for the next test
        assert all(current_runs(store, d) == [1, 2] for d in WINDOW_DERIVED)


def test_an_older_store_without_the_tables_reads_the_entries(db: Path, tmp_path: Path) -> None:
    stored = _read(db, _queries)
    older = tmp_path / "older.duckdb"
    older.write_bytes(db.read_bytes())
    with open_store(older) as store:
        for derived in (MINUTE_LEDGER, *WINDOW_DERIVED):
            store.conn.execute(f"DROP TABLE {derived.table}")
        store.conn.execute("DROP TABLE derived_runs")
    assert _read(older, _queries) == stored


def test_a_run_that_grew_since_its_rows_were_stored_is_read_from_the_entries(
    db: Path, tmp_path: Path
) -> None:
    stored = _read(db, _queries)
    grown = tmp_path / "grown.duckdb"
    grown.write_bytes(db.read_bytes())
    with open_store(grown) as store:
        # rows that must not be read: the run's count is no longer the one they were made from
        store.conn.execute("UPDATE minute_ledger SET entries = entries + 1000")
        store.conn.execute("DELETE FROM instance_events")
        store.conn.execute("UPDATE error_causes SET cause = 'error:Stale'")
        store.conn.execute("UPDATE hour_spans SET entries = entries + 1000")
        store.conn.execute("DELETE FROM audit_entries")
        store.conn.execute("UPDATE ingest_runs SET accepted = accepted + 1")
        assert current_runs(store, MINUTE_LEDGER) == []
        assert all(current_runs(store, d) == [] for d in WINDOW_DERIVED)
    assert _read(grown, _queries) == stored


# What the hourly spans stand for, read from the entries (the statements before the table).
_FIRST_SEEN = """
SELECT service, revision, min("timestamp") AS first_seen, max("timestamp") AS last_seen,
       arg_min(insert_id, ("timestamp", insert_id)) AS first_insert_id
FROM entries
WHERE "timestamp" >= $since AND "timestamp" < $until
  AND resource_type = 'cloud_run_revision' AND coalesce(revision, '') <> ''
GROUP BY service, revision
ORDER BY first_seen, service, revision
"""
_TIME_RANGE = """
SELECT coalesce(service, resource_type, '(none)') AS service, count(*) AS entries,
       min("timestamp") AS first_entry, max("timestamp") AS last_entry
FROM entries GROUP BY ALL ORDER BY entries DESC, service
"""


def test_the_hourly_spans_answer_what_the_entries_answer(db: Path) -> None:
    """The revisions' first and last entries over ranges starting and ending on an hour, inside
    one, both inside one hour, and the store's span per service, as the entries give them."""
    hour = datetime(2025, 9, 16, 1, tzinfo=UTC)
    ranges = [
        (hour, hour + timedelta(hours=3)),
        (hour + timedelta(minutes=17), hour + timedelta(hours=2, minutes=41)),
        (hour, hour + timedelta(hours=2, minutes=41)),
        (hour + timedelta(minutes=17), hour + timedelta(hours=3)),
        (hour + timedelta(minutes=5), hour + timedelta(minutes=50)),
        (hour, hour + timedelta(minutes=50)),
        *((w.since, w.until) for w in WINDOWS),
    ]
    with open_for_reading(db) as store:
        assert current_runs(store, HOUR_SPANS) == [1, 2]
        seen = 0
        for since, until in ranges:
            params = {"since": since, "until": until}
            got = run_named(store, "store_revision_first_seen", params).to_dicts()
            assert got == store.query(_FIRST_SEEN, params).to_dicts(), (since, until)
            seen += len(got)
        assert seen
        got = run_named(store, "store_time_range").to_dicts()
        assert got and got == store.query(_TIME_RANGE).to_dicts()
