"""Benchmark: building and rendering the report against DuckDB's plain scan of the same store.

Builds a demo store of N entries (default 1,000,000; loaded with `forensics ingest`), runs the
analysis once (its cost belongs to the signatures and incidents stages), then, single-threaded
(`SET threads=1`) in the same run, times
  scan:    SELECT count(*), max(length(message)) FROM log_entries   (DuckDB alone)
  context: build_report(store, window, analysis=...)   (the report's own queries, postmortems,
           chart series and redaction)
  render:  Markdown + HTML + JSON from that context
best of --repeat runs each, and prints seconds, the ratios to the scan and the output sizes.

    python benchmarks/bench_report.py [--entries N] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from bench_classify import ANCHOR, _best, _load_demo

from forensics.analysis import analyze_window
from forensics.report import build_report, render
from forensics.store import open_store
from forensics.timeutil import Window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    window = Window(ANCHOR - timedelta(hours=24), ANCHOR)
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "bench.duckdb") as store:
        _load_demo(store, args.entries, Path(tmp))
        analysis = analyze_window(store, window)
        store.conn.execute("SET threads=1")
        scan_s, scan_cpu = _best(
            args.repeat,
            lambda: store.scalar("SELECT count(*), max(length(message)) FROM log_entries"),
        )
        contexts = []

        def build() -> None:
            contexts.append(build_report(store, window, now=ANCHOR, analysis=analysis))

        context_s, context_cpu = _best(args.repeat, build)
        texts: dict[str, str] = {}

        def render_all() -> None:
            texts.update({fmt: render(contexts[-1], fmt) for fmt in ("md", "html", "json")})

        render_s, render_cpu = _best(args.repeat, render_all)
    print(f"entries: {args.entries:,} (demo day, threads=1, best of {args.repeat})")
    print(f"scan     {scan_s:8.3f} s wall  {scan_cpu:8.3f} s cpu")
    for name, wall, cpu in (("context", context_s, context_cpu), ("render", render_s, render_cpu)):
        print(f"{name:8} {wall:8.3f} s wall  {cpu:8.3f} s cpu  = {wall / scan_s:.1f}x scan")
    sizes = ", ".join(f"{fmt} {len(text.encode()) / 1024:.0f} KiB" for fmt, text in texts.items())
    print(f"outputs: {sizes}")


if __name__ == "__main__":
    main()
