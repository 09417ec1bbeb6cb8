"""Benchmark: collecting a 24 h window of N entries under the 60 calls/min quota, pushdown vs full.

The demo generator's day (default 1,000,000 entries, plus its metrics) is served by the
emulator on 127.0.0.1 with the real Logging quota (60 entries.list calls per sliding minute per
project). The real collectors pull it twice into fresh stores:
  pushdown: failure candidates + context from Logging, volumes and signals from Monitoring;
  full:     every entry in scope from Logging (what a tool without pushdown has to do).
Both share a fast-forward clock with the emulator: quota waits cost no real time but are added
to the clock, so "projected" is the wall time the same pull would take against the real quota
(this machine's processing plus every wait; network latency to Google not included).

Also printed, as the repository's benchmarks do: DuckDB's own single-threaded rate of reading
the same JSON (json_extract over the served text) and the collector's end-to-end processing
rate as a ratio of it.

    python benchmarks/bench_collect.py [--entries N] [--skip-full]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forensics.clock import FastForwardClock
from forensics.collectors.collect import (
    CollectReport,
    CollectRequest,
    collect,
    make_clients,
)
from forensics.config import CollectSettings
from forensics.demo import DEMO_PROJECT, generate_entries, generate_time_series
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.store import open_store
from forensics.timeutil import window_ending

END = datetime(2025, 9, 16, tzinfo=UTC)  # fixed, so runs are comparable


def _run(em: Emulator, clock: FastForwardClock, db: Path, **settings: Any) -> dict[str, Any]:
    request = CollectRequest(
        DEMO_PROJECT,
        window_ending(24, END),
        settings=CollectSettings(
            logging_endpoint=em.logging_endpoint,
            monitoring_endpoint=em.monitoring_endpoint,
            **settings,
        ),
    )
    clients = make_clients(request)
    refused_before = em.logging.quota.refused
    try:
        with open_store(db) as store:
            start_real, start_clock = time.perf_counter(), clock.now()
            report: CollectReport = collect(
                store, request, clients=clients, clock=clock, rng=random.Random(1)
            )
            real = time.perf_counter() - start_real
            projected = clock.now() - start_clock
            stored = store.scalar("SELECT count(*) FROM log_entries")
            points = store.scalar("SELECT count(*) FROM metric_points")
    finally:
        clients.close()
    assert not report.failed, [o.error for o in report.failed]
    return {
        "logging_calls": report.logging_calls.calls,
        "metric_calls": report.monitoring_calls.calls,
        "throttled": report.logging_calls.throttled,
        "quota_refusals": em.logging.quota.refused - refused_before,
        "entries": int(stored),
        "points": int(points),
        "signals": report.signals,
        "real_s": real,
        "projected_s": projected,
    }


def _raw_rate(em: Emulator) -> float:
    """DuckDB alone: entries/s to pull three fields out of the served JSON, threads=1."""
    cur = em.entries.connection()
    cur.execute("SET threads = 1")
    start = time.perf_counter()
    cur.execute(
        "SELECT count(json_extract_string(raw, '$.timestamp')), "
        "count(json_extract_string(raw, '$.severity')), "
        "count(json_extract_string(raw, '$.textPayload')) FROM entries"
    ).fetchone()
    return em.entries.count / (time.perf_counter() - start)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--skip-full", action="store_true", help="only the pushdown pull")
    args = parser.parse_args()

    t0 = time.perf_counter()
    clock = FastForwardClock()
    em = Emulator(
        generate_entries(args.entries, end=END, hours=24),
        generate_time_series(end=END, hours=24),
        clock=clock,
        settings=EmulatorSettings(logging_quota_per_minute=60),
    )
    print(
        f"bench_collect: {em.entries.count:,} entries and {len(em.series.series)} time series "
        f"served for 24 h (loaded in {time.perf_counter() - t0:.0f}s); quota 60 entries.list "
        "calls per minute, enforced on a fast-forward clock",
        flush=True,
    )
    raw = _raw_rate(em)
    rows: dict[str, dict[str, Any]] = {}
    with em, tempfile.TemporaryDirectory() as tmp:
        rows["pushdown"] = _run(em, clock, Path(tmp) / "pushdown.duckdb")
        print(f"pushdown done: {rows['pushdown']}", flush=True)
        if not args.skip_full:
            rows["full"] = _run(em, clock, Path(tmp) / "full.duckdb", pushdown=False, metrics=False)
            print(f"full done: {rows['full']}", flush=True)

    print()
    header = (
        f"{'mode':9} {'Logging calls':>13} {'Monitoring calls':>16} {'entries stored':>14} "
        f"{'429s':>5} {'real time':>10} {'projected at quota':>19}"
    )
    print(header)
    for mode, r in rows.items():
        print(
            f"{mode:9} {r['logging_calls']:>13,} {r['metric_calls']:>16,} {r['entries']:>14,} "
            f"{r['throttled']:>5} {_minutes(r['real_s']):>10} {_minutes(r['projected_s']):>19}"
        )
    if "full" in rows:
        p, f = rows["pushdown"], rows["full"]
        print(
            f"\nfull / pushdown: {f['logging_calls'] / p['logging_calls']:.1f}x the Logging calls, "
            f"{f['projected_s'] / p['projected_s']:.1f}x the projected time, "
            f"{f['entries'] / p['entries']:.1f}x the entries stored"
        )
        rate = f["entries"] / f["real_s"]
        print(
            f"full pull processing: {rate:,.0f} entries/s end to end (emulator + client + "
            f"ingest) = {rate / raw:.3f} of DuckDB's raw JSON field scan ({raw:,.0f}/s, "
            "threads=1)"
        )
    print(
        f"pushdown also stored {rows['pushdown']['points']:,} metric points and "
        f"{rows['pushdown']['signals']} signals"
    )


if __name__ == "__main__":
    main()
