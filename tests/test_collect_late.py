"""Entries that reach Cloud Logging late: the emulator's receiveTimestamp filters (real client)
and the collector's one extra query for what arrived after the previous collection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from google.auth.credentials import AnonymousCredentials
from google.cloud import logging as gcl
from typer.testing import CliRunner

from forensics.cli import app
from forensics.clock import FastForwardClock
from forensics.collectors.checkpoints import Checkpoints, arrived_since
from forensics.collectors.filters import rfc3339
from forensics.config import CollectSettings
from forensics.emulator.faults import FaultPlan
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.store import Store, open_store
from tests import gcp_data as g

SINCE = datetime(2025, 9, 16, 10, 0, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=2)
FIRST = UNTIL + timedelta(minutes=1)  # the first collection: just after the window
SECOND = UNTIL + timedelta(minutes=30)  # the second: every late entry has arrived by then
LATE = timedelta(minutes=40)  # past the first run (12:01) and its settle margin (5 min)

ON_TIME = list(g.day(600, start=SINCE, hours=2))
# Failures of 11:30-11:40 that Cloud Logging receives 40 minutes after they happened.
LATE_ENTRIES = [
    g.entry(900_000 + i, SINCE + timedelta(minutes=90 + i), kind)
    | {"receiveTimestamp": g.iso(SINCE + timedelta(minutes=90 + i) + LATE)}
    for i, kind in enumerate(["sql_fatal", "error", "request5xx", "stdout", "sql_fatal"] * 2)
]
# A WebSocket opened at 11:10 that fails after 59 minutes: Cloud Run stamps its request log
# with the start and writes it at the end (gcp-wire-facts §8 shows such a 3540 s request).
SOCKET = g.entry(900_100, SINCE + timedelta(minutes=70), "request5xx")
SOCKET["httpRequest"] |= {"requestUrl": "https://api-abc-ew.a.run.app/ws", "latency": "3540.118s"}
SOCKET["receiveTimestamp"] = g.iso(SINCE + timedelta(minutes=70, seconds=3540.3))
LATE_ENTRIES.append(SOCKET)
EVERY = ON_TIME + LATE_ENTRIES


def received_by(at: datetime) -> list[dict[str, Any]]:
    """What Cloud Logging holds at ``at``: the entries it has received by then."""
    return [e for e in EVERY if e["receiveTimestamp"] <= g.iso(at)]


def serving(entries: list[dict[str, Any]], **faults: Any) -> Emulator:
    settings = EmulatorSettings(logging_faults=FaultPlan(**faults))
    return Emulator(entries, clock=FastForwardClock(), settings=settings)


def collect_at(store: Store, em: Emulator, now: datetime, **settings: Any) -> Any:
    options: dict[str, Any] = {"pushdown": False, "metrics": False, "settle_minutes": 5.0}
    return g.collect_from(store, em, since=SINCE, until=UNTIL, now=now, **(options | settings))


def late_bodies(em: Emulator) -> list[str]:
    return [str(b["filter"]) for b in em.logging.requests if "receiveTimestamp" in b["filter"]]


def entry_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM log_entries"))


# ---- the emulator -------------------------------------------------------------------------


def test_emulator_filters_on_receive_time_like_the_api() -> None:
    """receiveTimestamp compares as a time; an entry without one counts as received on time
    (the real API always sets it); the client adds no 24 h default to such a filter."""
    bare = g.entry(1, SINCE + timedelta(minutes=5), "error")
    del bare["receiveTimestamp"]
    floor = SINCE + timedelta(minutes=100)
    with serving([*EVERY, bare]) as em:
        client = gcl.Client(
            project=g.PROJECT,
            credentials=AnonymousCredentials(),
            _use_grpc=False,
            client_options={"api_endpoint": em.logging_endpoint},
        )
        text = f'receiveTimestamp>="{rfc3339(floor)}"'
        after = {e.insert_id for e in client.list_entries(filter_=text, page_size=1000)}
        text = f'receiveTimestamp<"{rfc3339(SINCE + timedelta(minutes=6))}"'
        before = {e.insert_id for e in client.list_entries(filter_=text, page_size=1000)}
        sent = [str(b["filter"]) for b in em.logging.requests]
    assert after == {e["insertId"] for e in EVERY if e["receiveTimestamp"] >= g.iso(floor)}
    assert after >= {e["insertId"] for e in LATE_ENTRIES}
    assert after & {e["insertId"] for e in ON_TIME}  # on-time entries after the floor too
    assert bare["insertId"] in before
    assert before == {
        e["insertId"]
        for e in [*EVERY, bare]
        if e.get("receiveTimestamp", e["timestamp"]) < g.iso(SINCE + timedelta(minutes=6))
    }
    assert all(" AND timestamp>=" not in f for f in sent)  # the filter went out as written


# ---- the collector ------------------------------------------------------------------------


def test_entries_arriving_after_the_settle_margin_are_pulled_once_and_classified(
    store: Store,
) -> None:
    with serving(received_by(FIRST)) as em:
        collect_at(store, em, FIRST)
    late_ids = {(e["logName"], e["insertId"]) for e in LATE_ENTRIES}
    assert not late_ids & set(g.stored_ids(store))  # not in Logging yet at the first run
    with serving(received_by(SECOND)) as em:
        report = collect_at(store, em, SECOND)
        late = late_bodies(em)
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == g.ids(EVERY)
    # One extra query per source, from the first run's receive point (its now - settle), over
    # the last late_minutes of what it had collected: not a re-pull of the window.
    floor = FIRST - timedelta(minutes=5)
    assert late and all(f'receiveTimestamp>="{rfc3339(floor)}"' in f for f in late)
    back = timedelta(minutes=CollectSettings().late_minutes)
    assert all(f'timestamp>="{rfc3339(floor - back)}"' in f for f in late)
    assert all(f'timestamp<"{rfc3339(floor)}"' in f for f in late)
    pulls = [o for o in report.outcomes if o.title.endswith("received late")]
    assert len(pulls) == len(late)
    # only entries received after the first run come back: the late ones and the few on-time
    # entries of the settle margin's last minutes before it (received_by(FIRST) had them)
    assert sum(o.stored for o in pulls) == len(LATE_ENTRIES)
    assert sum(o.items for o in pulls) < len(ON_TIME) // 10
    # classified on collect, like any other entry (scoped by the ingest run that stored it)
    classified = store.conn.execute(
        "SELECT DISTINCT insert_id FROM signature_matches WHERE signature = ?",
        ["cloudsql/too-many-clients"],
    ).fetchall()
    late_fatal = {e["insertId"] for e in LATE_ENTRIES if e["insertId"].startswith("sql_fatal")}
    assert late_fatal <= {r[0] for r in classified}
    assert store.scalar("SELECT count(*) FROM data_gaps") == 0


def test_a_repeated_collection_pulls_nothing_new_and_stores_no_duplicates(store: Store) -> None:
    with serving(EVERY) as em:
        collect_at(store, em, SECOND)
        stored, runs = entry_count(store), store.scalar("SELECT count(*) FROM ingest_runs")
        calls = len(em.logging.requests)
        again = collect_at(store, em, SECOND)  # the same moment: nothing can have arrived
        assert len(em.logging.requests) == calls
        assert {o.status for o in again.outcomes} == {"complete"}
        later = collect_at(store, em, SECOND + timedelta(minutes=15))
        rechecks = late_bodies(em)
        # Checked at 14:55 (15:00 minus settle), later than 12:00 + late_minutes: from then
        # on nothing timestamped in the window can still arrive, and no call is made at all.
        collect_at(store, em, UNTIL + timedelta(hours=3))
        calls = len(em.logging.requests)
        collect_at(store, em, UNTIL + timedelta(hours=4))
        settled = em.logging.requests[calls:]
    assert rechecks and sum(o.items for o in later.outcomes) == 0  # pulls nothing new
    assert sum(o.stored for o in later.outcomes) == 0
    assert entry_count(store) == stored  # writes no duplicates
    assert store.scalar("SELECT count(*) FROM ingest_runs") >= runs
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == g.ids(EVERY)
    assert settled == []


def test_late_minutes_zero_turns_the_extra_query_off(store: Store) -> None:
    with serving(received_by(FIRST)) as em:
        collect_at(store, em, FIRST, late_minutes=0.0)
    with serving(EVERY) as em:
        collect_at(store, em, SECOND, late_minutes=0.0)
        assert late_bodies(em) == []
    assert not {(e["logName"], e["insertId"]) for e in LATE_ENTRIES} & set(g.stored_ids(store))


def test_a_failed_late_pull_is_a_gap_until_a_later_run_gets_it(store: Store) -> None:
    with serving(received_by(FIRST)) as em:
        collect_at(store, em, FIRST)
    with serving(EVERY, outage=("receiveTimestamp",)) as em:
        report = collect_at(store, em, SECOND, max_attempts=2, backoff_base_s=0.01)
    assert report.failed and all(o.title.endswith("received late") for o in report.failed)
    gaps = store.conn.execute('SELECT source, start, "end" FROM data_gaps').fetchall()
    assert {s for s, _, _ in gaps} == {o.source for o in report.failed}
    floor = FIRST - timedelta(minutes=5)
    back = timedelta(minutes=CollectSettings().late_minutes)
    assert all(start >= floor - back and end <= floor for _, start, end in gaps)
    with serving(EVERY) as em:
        report = collect_at(store, em, SECOND + timedelta(minutes=1))
    assert not report.failed
    assert store.scalar("SELECT count(*) FROM data_gaps") == 0
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == g.ids(EVERY)


# ---- checkpoints --------------------------------------------------------------------------


def _t(minutes: float) -> datetime:
    return SINCE + timedelta(minutes=minutes)


def test_arrived_since_takes_each_ranges_latest_check_and_bounds_the_look_back() -> None:
    pieces = [
        (_t(0), _t(60), _t(61)),  # collected at 11:01
        (_t(60), _t(120), _t(125)),  # collected at 12:05
        (_t(0), _t(30), _t(200)),  # 10:00-10:30 checked again at 13:20
    ]
    late = timedelta(minutes=60)
    ranges, since = arrived_since(pieces, [(_t(0), _t(120))], _t(130), late)
    # 10:00-10:30 is settled (checked at 13:20 > 12:10); 10:30-11:00 needs entries received
    # since 11:01 timestamped after 10:01; 11:00-12:00 since 12:05, after 11:05
    assert ranges == [(_t(30), _t(60)), (_t(65), _t(120))]
    assert since == _t(61)
    assert arrived_since(pieces, [(_t(0), _t(120))], _t(61), late) == ([], None)
    assert arrived_since(pieces, [(_t(130), _t(180))], _t(300), late) == ([], None)  # uncollected
    long = timedelta(hours=4)
    assert arrived_since(pieces, [(_t(0), _t(30))], _t(300), long) == ([(_t(0), _t(30))], _t(200))
    # checked whole at 13:20, more than late_minutes after 12:00: settled for good
    done = [*pieces, (_t(0), _t(120), _t(200))]
    assert arrived_since(done, [(_t(0), _t(120))], _t(1000), late) == ([], None)


def test_a_store_from_before_received_until_is_upgraded_and_rechecked(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with open_store(db):
        pass
    conn = duckdb.connect(str(db))
    conn.execute("ALTER TABLE collect_checkpoints DROP COLUMN received_until")
    conn.execute(
        "INSERT INTO collect_checkpoints (source, project, scope_hash, query_hash, query, ranges, "
        "window_start, window_end, pages, items, status, covered_until, started, updated) "
        "VALUES ('logging:p:run', 'p', 's', 'q', 'f', ?, ?, ?, 1, 0, 'complete', ?, now(), now())",
        [f'[["{SINCE.isoformat()}", "{UNTIL.isoformat()}"]]', SINCE, UNTIL, UNTIL],
    )
    conn.close()
    with open_store(db) as store:
        # an old pull counts as settled at its covered_until: its receive time is unknown
        assert Checkpoints(store).received("logging:p:run", "s") == [(SINCE, UNTIL, UNTIL)]


def test_explain_says_what_a_later_run_adds(tmp_path: Path) -> None:
    args = ["collect", "--project", g.PROJECT, "--hours", "2", "--until", UNTIL.isoformat()]
    args += ["--db", str(tmp_path / "x.duckdb"), "--explain"]
    runner = CliRunner()
    plan = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert plan["late"]["late_minutes"] == CollectSettings().late_minutes
    assert plan["late"]["clause"].startswith("receiveTimestamp>=")
    text = " ".join(runner.invoke(app, args, env={"COLUMNS": "200"}).output.split())
    assert f"AND {plan['late']['clause']}" in text
    assert not (tmp_path / "x.duckdb").exists()  # explaining touches nothing
