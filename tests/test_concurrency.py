"""One store, several processes: a second command waits for the lock or stops clearly, and a
writer killed at any moment leaves a whole, readable store."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from forensics.errors import StoreBusyError
from forensics.snapshots import load_day, stored_days
from forensics.store import _is_lock_error, open_store

from .procs import ENV, hold
from .snapdata import EXIT3, ingest_spread, spread_store

DAY = date(2025, 9, 16)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return spread_store(tmp_path / "shared.duckdb", {(EXIT3, "svc-a"): {DAY: 5}})


def forensics(*args: str, timeout_s: str) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "FORENSICS_LOCK_TIMEOUT": timeout_s}
    return subprocess.run(
        [sys.executable, "-m", "forensics", *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip


def test_duckdb_lock_error_text_is_recognised(db: Path) -> None:
    holder = hold(db, 30)
    try:
        with pytest.raises(duckdb.Error) as err:
            duckdb.connect(str(db))
    finally:
        holder.kill()
        holder.wait()
    assert _is_lock_error(err.value), str(err.value)  # the text DuckDB really writes
    assert f"PID {holder.pid}" in str(err.value)


def test_second_command_waits_then_succeeds(db: Path) -> None:
    """The second command says it waits for the holder, and finishes once the lock is free.

    The holder keeps the lock until the command has said it waits (a fixed hold time races the
    command's start-up on a loaded machine), then lets go."""
    holder = hold(db, 120)
    env = {**ENV, "FORENSICS_LOCK_TIMEOUT": "60"}
    command = subprocess.Popen(
        [sys.executable, "-m", "forensics", "snapshot", "--db", str(db), "--date", "2025-09-16"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert command.stderr is not None
    said = ""
    try:
        while "for PID" not in said:
            line = command.stderr.readline()
            if not line:
                break
            said += line
    finally:
        holder.kill()
        holder.wait()
    stdout, rest = command.communicate(timeout=120)
    assert command.returncode == 0, said + rest
    assert f"waiting up to 60s for PID {holder.pid}" in " ".join(said.split())
    assert "snapshot 2025-09-16: 5 entries" in stdout


@pytest.mark.parametrize("command", [["snapshot", "--date", "2025-09-16"], ["diff"]])
def test_second_command_stops_with_a_clear_message(db: Path, command: list[str]) -> None:
    holder = hold(db, 60)
    try:
        result = forensics(*command, "--db", str(db), timeout_s="0.5")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"error: {db}: the store is in use by PID {holder.pid}" in message
    assert "(waited 0.5s)" in message and "FORENSICS_LOCK_TIMEOUT" in message


def test_open_store_gives_up_after_the_timeout(db: Path) -> None:
    holder = hold(db, 60)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError), open_store(db, lock_timeout_s=0.3):
            pass
        assert 0.3 <= time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()


WRITER = """
import json, sys
from datetime import date, timedelta
from forensics.store import open_store
from forensics.snapshots import take_snapshots
from tests.snapdata import EXIT3, ingest_spread
day = date(2025, 9, 16)
with open_store(sys.argv[1]) as store:
    for n in range(1, 1000):
        ingest_spread(store, {(EXIT3, "svc-a"): {day: 500}})
        take_snapshots(store, [day - timedelta(days=k) for k in range(3)])
        print(n, flush=True)
"""


def test_killed_writer_leaves_a_whole_store(db: Path) -> None:
    """SIGKILL a process that ingests and snapshots in a loop; everything committed is whole."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert writer.stdout is not None
    for _ in range(3):  # let it commit a few rounds, then kill it in the middle of the next
        writer.stdout.readline()
    time.sleep(0.15)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with open_store(db, lock_timeout_s=5) as store:  # opens, replays the log, writable
        entries = store.scalar("SELECT count(*) FROM entries")
        assert (entries - 5) % 500 == 0 and entries >= 5 + 3 * 500  # whole batches only
        runs = store.query("SELECT status, accepted FROM ingest_runs ORDER BY ingest_id")
        assert set(runs.filter(runs["status"] == "complete")["accepted"].to_list()) <= {5, 500}
        days = stored_days(store)
        assert DAY in days
        for day in days:  # every stored day is one whole snapshot from one transaction
            taken = store.query(
                "SELECT kind, count(DISTINCT taken_at) AS stamps FROM snapshots "
                "WHERE day = $day GROUP BY kind",
                {"day": day},
            )
            assert taken["stamps"].max() == 1 and "day" in taken["kind"].to_list()
        snap = load_day(store, DAY)  # taken between two whole ingest batches
        assert (snap.entries - 5) % 500 == 0 and snap.entries <= entries
        assert snap.counts("signature") == {("signature", EXIT3[0], "svc-a"): snap.entries}
        ingest_spread(store, {(EXIT3, "svc-a"): {DAY: 1}})  # and it still takes writes
