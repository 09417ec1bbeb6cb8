"""Resumable and idempotent: a collector process killed with SIGKILL at random points, again and
again, then resumed, ends with exactly the emulator's entries: none lost, none twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from forensics.clock import FastForwardClock
from forensics.emulator.faults import FaultPlan
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.store import Store, open_store
from tests import gcp_data as g

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = list(g.day(2_000))
PAGE = 100


def _config(path: Path, endpoint: str) -> Path:
    path.write_text(
        f'project = "{g.PROJECT}"\n'
        "[collect]\n"
        "metrics = false\npushdown = false\n"
        f"page_size = {PAGE}\ncalls_per_minute = 60000.0\nburst = 100\n"
        "settle_minutes = 0.0\ncontext_seconds = 0.0\n"
        f'logging_endpoint = "{endpoint}"\n',
        encoding="utf-8",
    )
    return path


def _start(cfg: Path, db: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost")
    cmd = [
        sys.executable,
        "-m",
        "forensics",
        "collect",
        "--config",
        str(cfg),
        "--hours",
        "24",
        "--until",
        g.END.isoformat(),
        "--db",
        str(db),
        "--json",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_killed_mid_pull_again_and_again_then_resumed_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(1278)
    slow = FaultPlan(slow_rate=1.0, slow_s=0.02)  # every page takes a moment: kills land mid-pull
    settings = EmulatorSettings(logging_quota_per_minute=0, logging_faults=slow)
    db = tmp_path / "killed.duckdb"
    with Emulator(ENTRIES, settings=settings) as em:
        cfg = _config(tmp_path / "forensics.toml", em.logging_endpoint)
        kills = 0
        for _ in range(40):
            proc = _start(cfg, db)
            target = em.logging.answered + rng.randint(2, 6)
            while proc.poll() is None and em.logging.answered < target:
                time.sleep(0.002)
            if proc.poll() is not None:
                break
            time.sleep(rng.uniform(0, 0.05))  # somewhere in fetch, ingest or commit
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        out, err = proc.communicate(timeout=120)
        answered = em.logging.answered
    assert proc.returncode == 0, err.decode()
    assert kills >= 3, "the test must really kill the collector several times"
    report = json.loads(out)
    assert {p["status"] for p in report["pulls"]} == {"complete"}, report

    with open_store(db) as store:
        ids = g.stored_ids(store)
        assert len(ids) == len(set(ids)), "an entry was stored twice"
        assert set(ids) == g.ids(ENTRIES), "an entry was lost"
        assert (
            store.scalar("SELECT count(*) FROM collect_checkpoints WHERE status <> 'complete'") == 0
        )

    # Resumed, not restarted: each kill costs at most the page in flight and the one being
    # committed; starting over would cost a whole pull per kill.
    with Emulator(ENTRIES, clock=FastForwardClock()) as clean_em:
        with open_store(tmp_path / "clean.duckdb") as clean:
            g.collect_from(clean, clean_em, pushdown=False, metrics=False, page_size=PAGE)
        clean_pages = clean_em.logging.answered
    assert answered <= clean_pages + 2 * kills, (answered, clean_pages, kills)


def test_a_refused_page_token_restarts_at_the_last_committed_entry(store: Store) -> None:
    dying = EmulatorSettings(logging_faults=FaultPlan(burst_503_every=3, burst_503_length=10**6))
    with Emulator(ENTRIES, clock=FastForwardClock(), settings=dying) as em:
        first = g.collect_from(
            store, em, pushdown=False, metrics=False, page_size=PAGE, max_attempts=2
        )
    run_source = "logging:demo-proj:run"
    assert run_source in {o.source for o in first.failed}
    reached = store.scalar(
        "SELECT last_timestamp FROM collect_checkpoints WHERE source = ?", [run_source]
    )
    committed = store.scalar("SELECT count(*) FROM log_entries")
    assert reached is not None and committed == 3 * PAGE
    # Page tokens expire after 24 h: the next run's token is refused with 400.
    store.conn.execute(
        "UPDATE collect_checkpoints SET page_token = 'expired' WHERE source = ?", [run_source]
    )

    with Emulator(ENTRIES, clock=FastForwardClock()) as em:
        second = g.collect_from(store, em, pushdown=False, metrics=False, page_size=PAGE)
        bodies = list(em.logging.requests)
    assert not second.failed
    assert [o.status for o in second.outcomes if o.source == run_source] == [
        "restarted",
        "complete",
    ]
    refused, restart = bodies[0], bodies[1]
    assert refused["pageToken"] == "expired"
    stamp = reached.isoformat(timespec="microseconds").replace("+00:00", "").rstrip("0")
    assert f'timestamp>="{stamp}' in str(restart["filter"])  # from the last entry, not the start
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == g.ids(ENTRIES)
    assert store.scalar("SELECT count(*) FROM data_gaps") == 0


def test_overlapping_and_repeated_windows_with_pushdown_add_nothing_twice(store: Store) -> None:
    with Emulator(ENTRIES, clock=FastForwardClock()) as em:
        for hours in ((0, 10), (5, 20), (0, 24), (0, 24)):
            g.collect_from(
                store,
                em,
                since=g.START + timedelta(hours=hours[0]),
                until=g.START + timedelta(hours=hours[1]),
                metrics=False,
                context_seconds=20.0,
            )
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids))
    candidates = {
        (e["logName"], e["insertId"])
        for e in ENTRIES
        if e["insertId"].split("-")[0] in g.CANDIDATE_KINDS
    }
    assert candidates <= set(ids)


def test_rerun_of_a_collected_window_reports_every_source_complete(tmp_path: Path) -> None:
    """A second run over a finished window makes no call and says each source is complete."""
    db = tmp_path / "again.duckdb"
    with Emulator(ENTRIES, settings=EmulatorSettings(logging_quota_per_minute=0)) as em:
        cfg = _config(tmp_path / "forensics.toml", em.logging_endpoint)
        first = _start(cfg, db)
        out1, err1 = first.communicate(timeout=120)
        assert first.returncode == 0, err1.decode()
        calls_before = em.logging.answered
        second = _start(cfg, db)
        out2, err2 = second.communicate(timeout=120)
        assert second.returncode == 0, err2.decode()
        assert em.logging.answered == calls_before  # nothing pulled again
    sources1 = {p["source"] for p in json.loads(out1)["pulls"]}
    pulls2 = json.loads(out2)["pulls"]
    assert {p["source"] for p in pulls2} == sources1
    assert {p["status"] for p in pulls2} == {"complete"}
    assert sum(p["received"] for p in pulls2) == 0
