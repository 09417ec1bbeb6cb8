"""Benchmark: `forensics ingest` against DuckDB's own raw NDJSON load, single-threaded.

Generates N demo entries (default 1,000,000) as an NDJSON export, then in one run times
  raw:    CREATE TABLE t AS SELECT * FROM read_ndjson(file)      (DuckDB alone, threads=1)
  ingest: forensics' ingest_files(file) into a fresh store          (threads=1)
each in its own child process so that peak RSS is measured per phase, and prints entries/s,
the ratio ingest/raw (target >= 0.6) and each phase's peak RSS (target <= 1 GB for ingest).

    python benchmarks/bench_ingest.py [--entries N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ANCHOR = datetime(2025, 9, 16, 12, 0, tzinfo=UTC)  # fixed, so runs are comparable


def _phase_raw(path: Path, db: Path) -> dict[str, float]:
    import duckdb

    conn = duckdb.connect(str(db))
    conn.execute("SET threads = 1")
    start = time.perf_counter()
    # sample_size=-1: DuckDB's default inference samples the first rows and then fails on (or
    # drops) fields first seen later, which a realistic export has; scan it all to infer.
    conn.execute(f"CREATE TABLE t AS SELECT * FROM read_ndjson('{path}', sample_size=-1)")
    elapsed = time.perf_counter() - start
    rows = conn.execute("SELECT count(*) FROM t").fetchone()
    conn.close()
    return {"seconds": elapsed, "rows": float(rows[0] if rows else 0)}


def _phase_ingest(path: Path, db: Path) -> dict[str, float]:
    from forensics.ingest import BATCH_SIZE, ingest_files
    from forensics.store import open_store

    with open_store(db) as store:
        store.conn.execute("SET threads = 1")
        start = time.perf_counter()
        result = ingest_files(store, [path], batch_size=BATCH_SIZE)
        elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "rows": float(result.accepted)}


def _run_child(phase: str, path: Path, db: Path) -> dict[str, float]:
    """Run one phase in a fresh interpreter, so its peak RSS is its own; return its figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--file", str(path), "--db", str(db)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Directory to keep the export and stores in.")
    parser.add_argument("--phase", choices=["raw", "ingest"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # child process
        result = (_phase_raw if args.phase == "raw" else _phase_ingest)(args.file, args.db)
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    from forensics.demo import write_export

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    export = workdir / "bench.jsonl"
    start = time.perf_counter()
    write_export(export, n_entries=args.entries, end=ANCHOR, fmt="ndjson")
    size_mib = export.stat().st_size / 2**20
    print(
        f"generated {args.entries:,} entries ({size_mib:,.0f} MiB) in "
        f"{time.perf_counter() - start:.1f}s → {export}"
    )

    for stale in workdir.glob("*.duckdb*"):
        stale.unlink()
    raw = _run_child("raw", export, workdir / "raw.duckdb")
    ingest = _run_child("ingest", export, workdir / "ingest.duckdb")
    raw_rate = raw["rows"] / raw["seconds"]
    ingest_rate = ingest["rows"] / ingest["seconds"]
    print(
        f"duckdb read_ndjson (raw): {raw_rate:>12,.0f} entries/s  "
        f"({raw['seconds']:.2f}s, peak RSS {raw['peak_rss_mib']:,.0f} MiB)"
    )
    print(
        f"forensics ingest:         {ingest_rate:>12,.0f} entries/s  "
        f"({ingest['seconds']:.2f}s, peak RSS {ingest['peak_rss_mib']:,.0f} MiB)"
    )
    ratio = ingest_rate / raw_rate
    print(
        f"ratio ingest/raw: {ratio:.2f}  (target >= 0.60)   "
        f"ingest peak RSS: {ingest['peak_rss_mib']:,.0f} MiB (target <= 1024)"
    )
    if int(ingest["rows"]) != args.entries:
        print(f"WARNING: ingest accepted {int(ingest['rows']):,} of {args.entries:,} entries")


if __name__ == "__main__":
    main()
