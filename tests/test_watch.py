"""`forensics watch`: change detection run to run, webhook alerts, and clean shutdown on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.ingest import ingest_texts
from forensics.snapshots import SpikeRule
from forensics.store import open_store
from forensics.timeutil import utcnow
from forensics.watch.loop import Cancel, StopFlag, run_every
from forensics.watch.monitor import Monitor

from .hookserver import hook_server
from .procs import ENV, hold
from .snapdata import EXIT3, MEMORY, entries_for

NOW = datetime(2025, 9, 16, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SIG, MEM = EXIT3[0], MEMORY[0]


def add(
    db: Path, kind: tuple[str | None, str, str], start: datetime, count: int, span: timedelta
) -> None:
    with open_store(db) as store:
        texts = [json.dumps(e) for e in entries_for(kind, "svc-a", start, count, span)]
        assert ingest_texts(store, texts, "test").accepted == count


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_monitor_reports_new_spiking_and_gone_once(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    add(db, EXIT3, NOW - 23 * HOUR, 23, 23 * HOUR)  # one an hour, the steady state
    clock = Clock(NOW)
    monitor = Monitor(db, 24 * HOUR, HOUR, SpikeRule(), clock=clock)

    first = monitor.run_once(Cancel())
    assert first.first and not first.changed and first.state.entries == 23

    add(db, MEMORY, NOW + 10 * timedelta(minutes=1), 2, timedelta(minutes=5))
    add(db, EXIT3, NOW, 12, HOUR)  # 12 in the hour against 1 an hour before: a spike
    clock.now = NOW + HOUR
    second = monitor.run_once(Cancel())
    assert [(n.key, n.count) for n in second.changes.new_signatures] == [(MEM, 2)]
    assert [(s.key, s.count) for s in second.changes.spikes] == [(SIG, 12)]
    assert second.changes.spikes[0].baseline == pytest.approx(1.0)  # 23 in the 23 h before
    # the spike check reads the model's per-signature counts (one query), not a query of its own
    totals = second.model.signature_totals()
    assert totals[(SIG, "svc-a")] == (35, 12)
    assert second.changes.needs_attention

    add(db, EXIT3, NOW + HOUR, 12, HOUR)  # the spike goes on: not reported again
    clock.now = NOW + 2 * HOUR
    third = monitor.run_once(Cancel())
    assert not third.changes.spikes and not third.changes.new_signatures
    assert not third.changed

    clock.now = NOW + 27 * HOUR  # everything has left the 24 h window
    fourth = monitor.run_once(Cancel())
    assert {g.key for g in fourth.changes.gone_signatures} == {MEM, SIG}
    assert not fourth.changes.needs_attention  # gone is good news


def test_loop_survives_a_failed_run_and_stops_on_request() -> None:
    calls: list[int] = []
    failures: list[str] = []
    stop = StopFlag()

    def step(cancel: Cancel) -> int:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            raise RuntimeError("collector down")
        if len(calls) == 4:
            stop.request("test")
        return len(calls)

    def report(run: int, result: int) -> None:
        if run == 3:
            raise OSError("stdout closed")

    summary = run_every(
        step, 0.01, stop=stop, on_result=report,
        on_failure=lambda n, e: failures.append(f"{n}: {e}"),
    )  # fmt: skip
    assert calls == [1, 2, 3, 4]
    assert failures == ["2: collector down", "3: stdout closed"]  # neither ended the loop
    assert summary.completed == 3 and summary.failed == 1 and summary.last == 4


def test_alert_on_change_posts_only_changes_with_retry(tmp_path: Path, runner: CliRunner) -> None:
    """In-process CLI run: entries stamped 5 s ahead enter the window on the second run, 8 s
    after the first (margins that hold when a loaded machine slows the first run's start)."""
    db = tmp_path / "w.duckdb"
    add(db, EXIT3, utcnow() - HOUR, 3, HOUR)
    add(db, MEMORY, utcnow() + timedelta(seconds=5), 1, timedelta(seconds=0.1))
    with hook_server([500, 200]) as hook:
        result = runner.invoke(
            app,
            ["watch", "--db", str(db), "--interval", "8s", "--lookback", "1h",
             "--iterations", "2", "--alert-on-change", "--webhook", hook.url,
             "--webhook-backoff", "0.05"],
        )  # fmt: skip
    assert result.exit_code == 1, result.output  # the new signature needs attention
    assert len(hook.received) == 2  # run 1 had no change: no POST; run 2: 500, then 200
    assert hook.received[0] == hook.received[1]
    payload = hook.received[1]
    assert payload["text"].startswith("forensics watch: needs attention: 1 new signature(s)")
    assert f"new signature {MEM} on svc-a: 1 entries" in json.dumps(payload["blocks"])
    assert "posted to http://127.0.0.1:" in result.output and "(attempt 2)" in result.output
    assert "secret-token" not in result.output


def _spawn(args: list[str], db: Path, **env: str) -> subprocess.Popen[str]:
    environ = {**ENV, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "forensics", *args, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 30) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if needle in line:
            return seen
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"never saw {needle!r}; got {seen!r}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_between_runs_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "w.duckdb"
    add(db, EXIT3, utcnow() - HOUR, 3, HOUR)
    proc = _spawn(["watch", "--interval", "60s"], db)
    _wait_for_line(proc, "run 1:")
    started = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 5  # did not wait out the 60 s interval
    assert f"stopped on {sig.name} after 1 run(s), 0 failed" in err
    with open_store(db, lock_timeout_s=0) as store:  # the lock is released
        assert store.scalar("SELECT count(*) FROM entries") == 3


def test_sigterm_during_a_run_abandons_it_promptly(tmp_path: Path) -> None:
    """The run is stuck waiting for the store lock (another process holds it); SIGTERM ends it."""
    db = tmp_path / "w.duckdb"
    add(db, EXIT3, utcnow() - HOUR, 3, HOUR)
    holder = hold(db, seconds=60)
    try:
        proc = _spawn(["watch", "--interval", "1s"], db, FORENSICS_LOCK_TIMEOUT="60")
        _wait_for_line(proc, "watching")  # the signal handlers are in place
        assert proc.stderr is not None
        assert "waiting up to 60s for PID" in proc.stderr.readline()  # run 1 is stuck
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 15
    assert "stopped on SIGTERM after 0 run(s), 0 failed (the run in progress was abandoned)" in err


def test_failed_run_is_reported_and_the_next_one_runs(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    add(db, EXIT3, utcnow() - HOUR, 3, HOUR)
    holder = hold(db, seconds=60)
    proc = _spawn(
        ["watch", "--interval", "0.5s", "--iterations", "3"], db, FORENSICS_LOCK_TIMEOUT="0.2"
    )
    try:
        assert proc.stderr is not None
        failure = proc.stderr.readline()  # the lock wait notice, then the failure
        while "run 1 failed" not in failure and failure:
            failure += proc.stderr.readline()
    finally:
        holder.kill()  # the store is free from now on
        holder.wait()
    out, err = proc.communicate(timeout=60)
    assert "run 1 failed: StoreBusyError" in failure and "the store is in use by PID" in failure
    assert "run 3: 3 entries in the window" in out
    assert "stopped after 3 run(s), 1 failed" in err
    assert proc.returncode == 0, err


def test_each_run_collects_from_the_project(tmp_path: Path, runner: CliRunner) -> None:
    """Real google-cloud clients against the emulator on 127.0.0.1: collect, then compare."""
    now = utcnow()
    served = entries_for(EXIT3, "svc-a", now - 30 * timedelta(minutes=1), 3, timedelta(minutes=3))
    served += entries_for(MEMORY, "svc-a", now + timedelta(seconds=1.5), 1, timedelta(seconds=1))
    config = tmp_path / "forensics.toml"
    config.write_text(
        'project = "netra-staging"\n[collect]\nmetrics = false\ncalls_per_minute = 6000\n'
        "burst = 100\nsettle_minutes = 0\ncontext_seconds = 0\n"
    )
    db = tmp_path / "w.duckdb"
    settings = EmulatorSettings(logging_quota_per_minute=0)
    with Emulator(served, settings=settings) as em:
        result = runner.invoke(
            app,
            ["watch", "--db", str(db), "--config", str(config), "--interval", "2.5s",
             "--lookback", "1h", "--iterations", "2"],
            env=em.env(),
        )  # fmt: skip
        calls = len(em.logging.requests)
    assert result.exit_code == 1, result.output
    assert "collecting netra-staging" in result.output and calls >= 2
    runs = result.output.split(" run ")
    assert "collected netra-staging: 3 new entries" in runs[1]
    assert "collected netra-staging: 1 new entries" in runs[2]
    assert f"new signature {MEM} on svc-a: 1 entries" in runs[2]
    with open_store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM entries") == 4
