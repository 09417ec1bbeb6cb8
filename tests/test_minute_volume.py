"""minute_volume and the traffic ledger on the real export, without BigQuery.

A store where a BigQuery source counted every entry in place (``minute_counts``) and brought
some of them home must count each entry once, as a store that ingested them all; a minute the
source did not count (a run killed between its entries and its counts) counts what came home.
The ledger read once and cut at odd times must give, for every range, the counts a direct
query over the entries gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from forensics.derived import store_pending
from forensics.incidents.traffic import TrafficLedger
from forensics.ingest import ingest_texts
from forensics.minute_ledger import HOUR_LEDGER, MINUTE_LEDGER
from forensics.sql import load_query, run_named
from forensics.store import Store, open_store
from tests.conftest import REAL_STAGING_ENTRIES

SINCE = datetime(2025, 8, 1, tzinfo=UTC)
UNTIL = datetime(2025, 10, 1, tzinfo=UTC)
SOURCE = "bigquery:p.sink"


def _lines() -> list[str]:
    return REAL_STAGING_ENTRIES.read_text().splitlines()


@pytest.fixture(scope="module")
def ingested() -> Iterator[Store]:
    with open_store(":memory:") as store:
        ingest_texts(store, _lines(), "entries.jsonl")
        yield store


def _volume(store: Store) -> list[dict[str, Any]]:
    params = {"since": SINCE, "until": UNTIL}
    return run_named(store, "hour_service_severity_volume", params).to_dicts()


@contextmanager
def _collected(
    ingested: Store,
    brought_home: list[str],
    uncounted_minute: datetime | None,
    counted: str = "true",
) -> Iterator[Store]:
    """A store as collect --bigquery leaves it: ``brought_home`` entries, and the counts of
    every entry (computed from the ingested store) except ``uncounted_minute``'s and those
    ``counted`` (an SQL condition on log_entries) leaves out."""
    counts = ingested.conn.execute(
        "SELECT date_trunc('minute', \"timestamp\") AS minute, service, severity, http_status, "
        "count(*), resource_type, log_id, count(*) FILTER (WHERE log_id = "
        "'run.googleapis.com/varlog/system' AND message LIKE 'Starting new instance%') "
        f"FROM log_entries WHERE {counted} GROUP BY ALL"
    ).fetchall()
    with open_store(":memory:") as store:
        ingest_texts(store, brought_home, SOURCE)
        store.conn.executemany(
            "INSERT INTO minute_counts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[SOURCE, *row] for row in counts if row[0] != uncounted_minute],
        )
        yield store


def test_a_counted_minute_counts_its_entries_once(ingested: Store) -> None:
    lines = _lines()
    errors = [t for t in lines if json.loads(t).get("severity") in ("ERROR", "CRITICAL")]
    assert 0 < len(errors) < len(lines)
    with _collected(ingested, errors, None) as store:
        assert _volume(store) == _volume(ingested)


def test_a_minute_left_uncounted_counts_what_came_home(ingested: Store) -> None:
    """A run killed after its entries and before its counts: that minute's entries brought
    home are counted from the store, the others of the minute are missing (not doubled)."""
    lines = _lines()
    home = lines[::3]
    first = min(json.loads(t)["timestamp"] for t in home)
    minute = datetime.fromisoformat(first.replace("Z", "+00:00")).replace(second=0, microsecond=0)
    with _collected(ingested, home, minute) as store:
        got = sum(r["n"] for r in _volume(store))
        in_minute = ingested.scalar(
            "SELECT count(*) FROM log_entries WHERE date_trunc('minute', \"timestamp\") = ?",
            [minute],
        )
        home_in_minute = store.scalar(
            "SELECT count(*) FROM log_entries WHERE date_trunc('minute', \"timestamp\") = ?",
            [minute],
        )
        assert 0 < home_in_minute <= in_minute
        assert got == len(lines) - in_minute + home_in_minute


def _ingest_file(store: Store, ledgered: bool) -> None:
    """The export ingested from a file, its minutes in minute_ledger or read from entries."""
    ingest_texts(store, _lines(), "entries.jsonl")
    if ledgered:
        store_pending(store, MINUTE_LEDGER)


@pytest.mark.parametrize("ledgered", [False, True], ids=["entries", "ledger"])
def test_a_file_ingested_over_a_counted_window_counts_each_entry_once(
    ingested: Store, ledgered: bool
) -> None:
    """collect --bigquery counted every minute and brought the errors home; the same export
    ingested from a file too holds every entry again, under its own source: each entry once."""
    lines = _lines()
    errors = [t for t in lines if json.loads(t).get("severity") in ("ERROR", "CRITICAL")]
    with _collected(ingested, errors, None) as store:
        _ingest_file(store, ledgered)
        assert store.scalar("SELECT count(*) FROM log_entries WHERE source <> ?", [SOURCE]) > 0
        assert _volume(store) == _volume(ingested)


@pytest.mark.parametrize("ledgered", [False, True], ids=["entries", "ledger"])
def test_a_file_ingested_past_a_counted_window_counts_the_rest_from_the_file(
    ingested: Store, ledgered: bool
) -> None:
    """BigQuery counted the first half of the export's minutes (its window) and only the
    requests log there; the file holds every entry: the counted minutes' requests once, the
    other logs and the later minutes from the file."""
    stamps = sorted(
        r[0] for r in ingested.conn.execute('SELECT "timestamp" FROM log_entries').fetchall()
    )
    middle = stamps[len(stamps) // 2]
    counted = f"\"timestamp\" < '{middle.isoformat()}' AND log_id = 'run.googleapis.com/requests'"
    assert 0 < ingested.scalar(f"SELECT count(*) FROM log_entries WHERE {counted}") < len(stamps)
    with _collected(ingested, [], None, counted) as store:
        _ingest_file(store, ledgered)
        assert _volume(store) == _volume(ingested)


def _direct(store: Store, since: datetime, until: datetime) -> dict[str, tuple[int, int, int]]:
    """Per service: requests, 5xx and instance starts counted straight off the entries."""
    rows = store.conn.execute(
        "SELECT service, count(*) FILTER (WHERE http_status IS NOT NULL), "
        "count(*) FILTER (WHERE http_status >= 500), count(*) FILTER (WHERE log_id = "
        "'run.googleapis.com/varlog/system' AND message LIKE 'Starting new instance%') "
        "FROM log_entries WHERE resource_type = 'cloud_run_revision' AND \"timestamp\" >= ? "
        'AND "timestamp" < ? AND service IS NOT NULL GROUP BY service',
        [since, until],
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_one_ledger_read_gives_every_range_exactly(ingested: Store) -> None:
    """Cuts inside a minute (where entries fall on both sides) split it to the microsecond."""
    stamps = sorted(
        ingested.conn.execute(
            "SELECT \"timestamp\" FROM log_entries WHERE log_id = 'run.googleapis.com/requests'"
        ).fetchall()
    )
    middle = stamps[len(stamps) // 2][0]
    cuts = [
        middle,  # an entry on the cut counts from it on
        middle + timedelta(microseconds=1),
        stamps[len(stamps) // 4][0] - timedelta(seconds=7),
    ]
    ledger = TrafficLedger.read(ingested, SINCE, UNTIL, cuts)
    edges = [SINCE, *sorted(cuts), UNTIL]
    ranges = [(a, b) for i, a in enumerate(edges) for b in edges[i + 1 :]]
    seen_split = False
    for since, until in ranges:
        frame = ledger.service_traffic(since, until)
        got = {
            r["service"]: (r["log_requests"], r["log_5xx"], r["instance_starts"])
            for r in frame.to_dicts()
        }
        want = _direct(ingested, since, until)
        assert {s: v for s, v in got.items() if any(v)} == {s: v for s, v in want.items() if any(v)}
        seen_split |= 0 < sum(v[0] for v in want.values()) < len(stamps)
    assert seen_split
    with pytest.raises(ValueError):
        ledger.service_traffic(SINCE + timedelta(seconds=1), UNTIL)


def _minute_volume(store: Store, since: datetime, until: datetime, cuts: list[datetime]) -> list:
    """minute_volume's counts per part, minute and values (rows from the ledger and from the
    entries may split one group: only the sums are the answer)."""
    return store.conn.execute(
        "SELECT part, minute, source, counted, service, resource_type, log_id, severity, "
        "severity_number, http_status, request, sum(instance_starts)::BIGINT, "
        "sum(entries)::BIGINT FROM minute_volume(?, ?, cuts := ?::TIMESTAMPTZ[]) "
        "GROUP BY ALL ORDER BY ALL",
        [since, until, cuts],
    ).fetchall()


def test_the_minute_ledger_counts_what_the_entries_count() -> None:
    """Whole minutes read from minute_ledger (per ingest run) and the rest from log_entries give
    the counts the entries alone give: with every run ledgered, one of two, or none; over an
    unaligned range cut inside minutes."""
    lines = _lines()
    with open_store(":memory:") as store:
        ingest_texts(store, lines[::2], "even.jsonl")
        ingest_texts(store, lines[1::2], "odd.jsonl")
        store_pending(store, MINUTE_LEDGER)  # what classify_pending writes after an ingest
        ledgered = store.scalar("SELECT count(DISTINCT ingest_id) FROM minute_ledger")
        assert ledgered == 2
        # edges and cuts inside minutes with entries on both sides of them
        inside = [
            row[0]
            for row in store.conn.execute(
                'SELECT "timestamp" FROM log_entries QUALIFY row_number() OVER (PARTITION BY '
                'date_trunc(\'minute\', "timestamp") ORDER BY "timestamp") = 2 '
                "AND count(*) OVER (PARTITION BY date_trunc('minute', \"timestamp\")) > 2 "
                'ORDER BY "timestamp"'
            ).fetchall()
        ]
        assert len(inside) >= 4
        since, until = inside[0], inside[-1]
        cuts = [inside[len(inside) // 3], inside[2 * len(inside) // 3]]
        answers = []
        for forget in ([], ["even.jsonl"], ["even.jsonl", "odd.jsonl"]):
            store.conn.execute(
                "DELETE FROM derived_runs WHERE ingest_id IN "
                "(SELECT ingest_id FROM ingest_runs WHERE list_contains(?, source))",
                [forget],
            )
            answers.append(_minute_volume(store, since, until, cuts))
        assert answers[0] and answers[0] == answers[1] == answers[2]


def _busy_minutes(store: Store) -> list[datetime]:
    """The starts of the minutes holding more than two entries, in order."""
    return [
        row[0]
        for row in store.conn.execute(
            "SELECT date_trunc('minute', \"timestamp\") AS m FROM log_entries GROUP BY m "
            "HAVING count(*) > 2 ORDER BY m"
        ).fetchall()
    ]


@pytest.mark.parametrize(
    "shape",
    ["aligned", "since inside", "until inside", "cut in since's minute", "cut in until's minute"],
)
def test_ranges_and_cuts_on_or_inside_minutes_count_what_the_entries_count(shape: str) -> None:
    """minute_volume reads from the entries only the minutes an edge or a cut falls inside (a
    minute-aligned one parts the ledger's whole minutes): every mix of aligned and inside
    edges and cuts, with a cut sharing a minute with an edge, counts per part what the entries
    alone count, each entry once."""
    with open_store(":memory:") as store:
        ingest_texts(store, _lines(), "entries.jsonl")
        store_pending(store, MINUTE_LEDGER)
        minutes = _busy_minutes(store)
        assert len(minutes) >= 6
        second = timedelta(seconds=1)
        since, until = minutes[1], minutes[-2]
        cuts = [minutes[len(minutes) // 3], minutes[2 * len(minutes) // 3] + 7 * second]
        if shape == "since inside":
            since += 3 * second
        elif shape == "until inside":
            until += 50 * second
        elif shape == "cut in since's minute":
            since, cuts = since + 2 * second, [since + 30 * second, *cuts]
        elif shape == "cut in until's minute":
            until, cuts = until + 40 * second, [*cuts, until + 20 * second]
        ledgered = _minute_volume(store, since, until, cuts)
        store.conn.execute("DELETE FROM derived_runs")  # every count from the entries
        assert ledgered and ledgered == _minute_volume(store, since, until, cuts)
        bounds = [since, *cuts, until]
        for start, end in pairwise(bounds):
            want = store.scalar(
                'SELECT count(*) FROM log_entries WHERE "timestamp" >= ? AND "timestamp" < ?',
                [start, end],
            )
            assert sum(row[-1] for row in ledgered if row[0] == start) == want


@pytest.mark.parametrize("ledgered", [False, True], ids=["entries", "ledger"])
def test_a_range_starting_inside_a_minute_counts_that_minute_from_its_start(
    ledgered: bool,
) -> None:
    """`--hours 24` ends now, so its start falls inside a minute: the entries of that minute
    from the start on count (they were dropped: their minute began before the range)."""
    with open_store(":memory:") as store:
        ingest_texts(store, _lines(), "entries.jsonl")
        if ledgered:
            store_pending(store, MINUTE_LEDGER)
        stamps = [
            row[0]
            for row in store.conn.execute(
                'SELECT "timestamp" FROM log_entries WHERE second("timestamp") BETWEEN 20 AND 40 '
                'ORDER BY "timestamp"'
            ).fetchall()
        ]
        since = stamps[len(stamps) // 3]
        until = stamps[2 * len(stamps) // 3] + timedelta(microseconds=1)
        for start in (since, since + timedelta(microseconds=1)):
            want = store.scalar(
                'SELECT count(*) FROM log_entries WHERE "timestamp" >= ? AND "timestamp" < ?',
                [start, until],
            )
            got = store.scalar(
                "SELECT sum(entries)::BIGINT FROM minute_volume(?, ?)", [start, until]
            )
            assert got == want
            parts = store.scalar(
                "SELECT list(DISTINCT part) FROM minute_volume(?, ?)", [start, until]
            )
            assert parts == [start]


def _part_traffic(store: Store, since: datetime, until: datetime, cuts: list[datetime]) -> list:
    params = {"since": since, "until": until, "cuts": cuts}
    frame = run_named(store, "part_service_traffic", params)
    return sorted(frame.rows(), key=str)


def _minutes_only(store: Store, since: datetime, until: datetime, cuts: list[datetime]) -> list:
    """part_service_traffic as it was before the hourly ledger: every hour from minute_volume."""
    sql = load_query("part_service_traffic").sql
    start, end = (
        sql.index("    FROM (\n        SELECT * FROM minute_volume"),
        sql.index("    WHERE "),
    )
    minutes = "    FROM minute_volume($since, $until, cuts := CAST($cuts AS TIMESTAMPTZ[]))\n"
    frame = store.query(
        sql[:start] + minutes + sql[end:], {"since": since, "until": until, "cuts": cuts}
    )
    return sorted(frame.rows(), key=str)


def test_whole_hours_from_the_hour_ledger_count_what_the_minutes_count() -> None:
    """The traffic read takes the hours with no cut and no counted minute inside from the
    hourly ledger (stored, or computed from the entries for a run without current rows) and
    the rest from the minutes: per part, hour and service the same rows as minutes alone."""
    lines = _lines()
    with open_store(":memory:") as store:
        ingest_texts(store, lines[::2], "even.jsonl")
        ingest_texts(store, lines[1::2], "odd.jsonl")
        for derived in (MINUTE_LEDGER, HOUR_LEDGER):
            store_pending(store, derived)
        hours = [
            row[0]
            for row in store.conn.execute(
                "SELECT DISTINCT date_trunc('hour', \"timestamp\") AS h FROM log_entries "
                "WHERE resource_type = 'cloud_run_revision' AND http_status IS NOT NULL ORDER BY h"
            ).fetchall()
        ]
        assert len(hours) >= 4
        # a counted minute (another source, another log: it excludes nothing) in one hour
        store.conn.execute(
            "INSERT INTO minute_counts VALUES (?, ?, 'api', 'INFO', 200, 5, "
            "'cloud_run_revision', 'other/log', 0)",
            [SOURCE, hours[1] + timedelta(minutes=3)],
        )
        since, until = hours[0] - timedelta(minutes=17), hours[-1] + timedelta(hours=1)
        cuts = [hours[len(hours) // 2] + timedelta(minutes=25, microseconds=3), hours[-1]]
        want = _minutes_only(store, since, until, cuts)
        assert want
        stored = _part_traffic(store, since, until, cuts)
        store.conn.execute("DELETE FROM derived_runs WHERE derived = 'hour_ledger'")
        assert stored == want == _part_traffic(store, since, until, cuts)
        whole = store.scalar(
            "SELECT count(*) FROM hour_volume(?, ?, cuts := ?::TIMESTAMPTZ[])", [since, until, cuts]
        )
        assert whole > 0  # some hours were read whole
