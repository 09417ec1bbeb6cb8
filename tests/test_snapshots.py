"""Daily snapshots: counts per signature, service and UTC day; idempotent; exported faithfully."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.errors import InputError
from forensics.incidents import build_analysis
from forensics.ingest import ingest_files, ingest_texts
from forensics.signatures import classify_files
from forensics.snapshots import export_snapshots, load_day, stored_days, take_snapshot
from forensics.snapshots.model import Item, State
from forensics.snapshots.storage import describe_days, write_state
from forensics.store import Store, open_store
from forensics.timeutil import day_window

from .conftest import REAL_STAGING_ENTRIES, requires_real_staging
from .snapdata import EXIT3, MEMORY, ingest_spread, log_entry

D1, D2, D3 = date(2025, 9, 14), date(2025, 9, 15), date(2025, 9, 16)


def sig_counts(state: State) -> dict[tuple[str, str | None], int]:
    return {(i.key, i.service): i.count for i in state.items if i.kind == "signature"}


@pytest.fixture
def planned(store: Store) -> Store:
    ingest_spread(
        store,
        {(EXIT3, "svc-a"): {D1: 5, D2: 7}, (MEMORY, "svc-b"): {D2: 3}},
    )
    return store


def test_counts_per_signature_service_and_day(planned: Store) -> None:
    day2 = take_snapshot(planned, D2)
    assert sig_counts(day2) == {("startup/exit-code-3", "svc-a"): 7,
                                ("cloudrun/memory-limit-exceeded", "svc-b"): 3}  # fmt: skip
    assert day2.entries == 10 and day2.recorded >= {"signature"}
    assert sig_counts(take_snapshot(planned, D1)) == {("startup/exit-code-3", "svc-a"): 5}
    stored = load_day(planned, D2)
    assert sig_counts(stored) == sig_counts(day2) and stored.entries == 10
    example = stored.of_kind("signature")[("signature", "startup/exit-code-3", "svc-a")]
    assert example.details["first_seen"].startswith("2025-09-15T00:00:00")
    assert example.details["example_insert_id"].startswith("snap-")


def test_day_boundaries_are_utc_midnight(store: Store) -> None:
    last = datetime(2025, 9, 14, 23, 59, 59, 999999, tzinfo=UTC)
    first = datetime(2025, 9, 15, tzinfo=UTC)
    texts = [json.dumps(log_entry(t, EXIT3[1], "svc-a", EXIT3[2])) for t in (last, first, first)]
    ingest_texts(store, texts, "test")
    assert sig_counts(take_snapshot(store, D1)) == {("startup/exit-code-3", "svc-a"): 1}
    assert sig_counts(take_snapshot(store, D2)) == {("startup/exit-code-3", "svc-a"): 2}


def test_retaking_a_day_replaces_it(planned: Store) -> None:
    take_snapshot(planned, D1)
    take_snapshot(planned, D2)
    rows = planned.scalar("SELECT count(*) FROM snapshots WHERE day = ?", [D2])
    take_snapshot(planned, D2)
    assert planned.scalar("SELECT count(*) FROM snapshots WHERE day = ?", [D2]) == rows
    ingest_spread(planned, {(EXIT3, "svc-a"): {D2: 2}})  # late entries arrive
    assert sig_counts(take_snapshot(planned, D2))[("startup/exit-code-3", "svc-a")] == 9
    assert planned.scalar("SELECT count(*) FROM snapshots WHERE day = ?", [D2]) == rows
    assert sig_counts(load_day(planned, D1)) == {("startup/exit-code-3", "svc-a"): 5}
    assert stored_days(planned) == [D1, D2]


def test_a_failed_write_keeps_the_previous_snapshot(planned: Store) -> None:
    before = sig_counts(take_snapshot(planned, D2))
    broken = State("x", 1, [Item("signature", "a/b", "svc", None)])  # type: ignore[arg-type]
    with pytest.raises(duckdb.Error):
        write_state(planned, D2, broken)
    assert sig_counts(load_day(planned, D2)) == before


def test_missing_day_names_the_days_that_exist(planned: Store) -> None:
    take_snapshot(planned, D1)
    take_snapshot(planned, D2)
    with pytest.raises(InputError) as err:
        load_day(planned, D3)
    assert "no snapshot for 2025-09-16" in str(err.value)
    assert "snapshots exist for: 2025-09-14..2025-09-15" in str(err.value)


def test_describe_days_collapses_runs() -> None:
    days = [date(2025, 9, d) for d in (1, 2, 3, 5, 7, 8)]
    assert describe_days(days) == "2025-09-01..2025-09-03, 2025-09-05, 2025-09-07..2025-09-08"
    assert describe_days([]) == "none"


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_export_round_trips(planned: Store, tmp_path: Path, fmt: str) -> None:
    for day in (D1, D2):
        take_snapshot(planned, day)
    path = tmp_path / "out" / f"snap.{fmt}"
    rows = planned.scalar("SELECT count(*) FROM snapshots WHERE day = ?", [D2])
    assert rows >= 3  # the day row, two signatures, the issues
    assert export_snapshots(planned, path, fmt, [D2]) == rows
    reader = "read_json" if fmt == "json" else "read_parquet"
    got = duckdb.sql(
        f"SELECT day::VARCHAR, kind, key, service, count FROM {reader}('{path}') ORDER BY ALL"
    ).fetchall()
    want = planned.conn.execute(
        "SELECT day::VARCHAR, kind, key, service, count FROM snapshots WHERE day = ? ORDER BY ALL",
        [D2],
    ).fetchall()
    assert got == want
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    every = planned.scalar("SELECT count(*) FROM snapshots")
    assert every > rows and export_snapshots(planned, path, fmt, None) == every  # over the old


@requires_real_staging
def test_real_day_agrees_with_classify_and_issue_status(tmp_path: Path) -> None:
    """Counts equal what `forensics classify` says entry by entry (another path), and issue
    statuses what `forensics issues` computes for the day."""
    source = REAL_STAGING_ENTRIES
    day = D3
    expected: Counter[tuple[str, str | None]] = Counter()
    for result in classify_files([source]).results:
        if result.signature and result.timestamp and result.timestamp.date() == day:
            expected[(result.signature, result.service)] += 1
    assert sum(expected.values()) > 100
    with open_store(tmp_path / "real.duckdb") as store:
        ingest_files(store, [source])
        state = take_snapshot(store, day)
        analysis = build_analysis(store, day_window(day))
    # the issue statuses are issue 5's, for the same UTC day
    assert {(i.key, i.status) for i in state.of_kind("issue").values()} == {
        (i["id"], i["status"]) for i in analysis["issues"]
    }
    assert {"signature", "template", "issue"} <= state.recorded
    primary = {
        (i.key, i.service): i.details["primary"]
        for i in state.items
        if i.kind == "signature" and i.details["primary"]
    }
    assert primary == dict(expected)


def test_cli_snapshot_list_and_exports(planned: Store, runner: CliRunner, tmp_path: Path) -> None:
    db = str(planned.path)
    planned.conn.close()
    out = tmp_path / "s.parquet"
    took = runner.invoke(
        app, ["snapshot", "--db", db, "--date", "2025-09-15", "--days", "2",
              "--export-parquet", str(out)],
    )  # fmt: skip
    assert took.exit_code == 0, took.output
    assert "snapshot 2025-09-15: 10 entries" in took.output
    assert "stored days: 2025-09-14..2025-09-15" in took.output
    with open_store(db, read_only=True) as store:
        rows = store.scalar("SELECT count(*) FROM snapshots")
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}')").fetchone() == (rows,)
    listed = runner.invoke(app, ["snapshot", "--db", db, "--list", "--json"])
    assert listed.exit_code == 0
    doc = json.loads(listed.output)
    assert doc["taken"] == [] and doc["stored_days"] == ["2025-09-14", "2025-09-15"]
    bad = runner.invoke(app, ["snapshot", "--db", db, "--date", "16/09/2025"])
    assert bad.exit_code == 2 and "is not a day" in bad.output
