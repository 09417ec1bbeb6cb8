"""Benchmark: the incidents stage (`build_analysis`) against one raw DuckDB scan, single-threaded.

Generates N demo entries (default 1,000,000) for a 24 h window, ingests and classifies them
(setup, timed for information), then in the same process with ``SET threads=1`` times
  raw:      one grouped scan of the window that reads every message (entries, errors and
            "timeout" lines per service): DuckDB alone;
  analysis: build_analysis(store, window), the whole incidents stage (statuses, incidents,
            attribution, deploys, drift, checks), twice (the second run finds nothing to classify);
and prints entries/s for each and the ratio analysis/raw, plus what the analysis found.

    python benchmarks/bench_incidents.py [--entries N] [--keep DIR] [--store FILE]

--store reuses a store an earlier run kept (DIR/bench.duckdb) and skips the setup.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

END = datetime(2026, 3, 10, tzinfo=UTC)  # fixed, so runs are comparable

RAW_SQL = """
SELECT
    service,
    count(*) AS n,
    count(*) FILTER (WHERE severity_number >= 500) AS errors,
    count(*) FILTER (WHERE message LIKE '%timeout%') AS timeouts
FROM entries
WHERE "timestamp" >= $since AND "timestamp" < $until
GROUP BY service
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the export and store here.")
    parser.add_argument("--store", type=Path, default=None, help="Reuse this store; no setup.")
    args = parser.parse_args()

    from forensics.demo import write_export
    from forensics.incidents import build_analysis, load_registry
    from forensics.ingest import ingest_files
    from forensics.paths import patterns_dir
    from forensics.signatures import classify_store, load_catalog
    from forensics.store import open_store
    from forensics.timeutil import Window

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-incidents-"))
    work.mkdir(parents=True, exist_ok=True)
    export, db = work / "demo.jsonl", work / "bench.duckdb"
    if args.store is None:
        db.unlink(missing_ok=True)
    window = Window(END - timedelta(hours=24), END)
    registry = load_registry(patterns_dir() / "issues.demo.yaml")

    generated = ingested = classified = 0.0
    if args.store is not None:
        db = args.store
    else:
        start = time.perf_counter()
        write_export(export, n_entries=args.entries, end=END, hours=24)
        generated = time.perf_counter() - start
    with open_store(db) as store:
        if args.store is None:
            start = time.perf_counter()
            ingest_files(store, [export])
            ingested = time.perf_counter() - start
            start = time.perf_counter()
            classify_store(store, load_catalog())
            classified = time.perf_counter() - start

        store.conn.execute("SET threads = 1")
        raws = []
        for _ in range(3):  # best of three, like the analysis runs below
            start = time.perf_counter()
            store.conn.execute(RAW_SQL, window.params()).fetchall()
            raws.append(time.perf_counter() - start)
        raw = min(raws)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            result = build_analysis(store, window, registry=registry)
            runs.append(time.perf_counter() - start)
        rows = store.scalar("SELECT count(*) FROM entries")

    best = min(runs)
    figures = {
        "entries": rows,
        "setup_seconds": {
            "generate": round(generated, 2),
            "ingest": round(ingested, 2),
            "classify": round(classified, 2),
        },
        "raw_scan_seconds": round(raw, 3),
        "raw_entries_per_s": round(rows / raw),
        "analysis_seconds": [round(r, 3) for r in runs],
        "analysis_entries_per_s": round(rows / best),
        "ratio_analysis_to_raw": round(raw / best, 4),
        "found": {
            "incidents": len(result["incidents"]),
            "statuses": {i["id"]: i["status"] for i in result["issues"]},
            "checks": {c["id"]: c["status"] for c in result["checks"]},
        },
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
