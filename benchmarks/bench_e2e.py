"""End-to-end benchmark: the on-call engineer's night, timed against DuckDB's own raw load.

Generates N entries in total with a corpus shape chosen by flags (benchmarks/e2e_corpus.py,
independent of the demo generator; with --days D, a run of D days of N/D entries each, every day
shaped like the 1-day corpus and the last one byte for byte the 1-day corpus of N/D entries, so a
D-day store's last 24 h holds the same data as the 1-day store), then in one run times, each in
its own child process (so peak RSS is that step's own):

  raw             DuckDB alone: CREATE TABLE AS SELECT * FROM read_ndjson(file), threads=1,
                  progress bar off
  ingest          forensics ingest FILE
  analyze --out   the first analysis of the day's last 24 h, writing the reports
  analyze again   the same window again (a fixed --until): nothing new to classify, and the
                  model the first run kept (forensics/model_cache.py) answers
  analyze +5 min  the window moved on by five minutes (--until five minutes later): what the
                  on-call engineer's second `forensics analyze --hours 24` costs a few minutes
                  after the first, when the kept model cannot answer (no cache hit)
  --help          forensics --help

and prints each as seconds and as a ratio to the raw load (ingest also as a rate ratio, raw time /
ingest time, in wall and in CPU seconds: >= 0.8 is the target), its CPU time (user + sys) and
that as a ratio to the raw load's CPU time (steadier than wall time on a shared machine), and
its peak RSS. The forensics
steps run the real CLI with FORENSICS_THREADS=1, so both sides are single-threaded, and
FORENSICS_CACHE_DIR in the work directory (emptied first), so no earlier run's model answers.

    python benchmarks/bench_e2e.py --entries 1000000
    python benchmarks/bench_e2e.py --entries 200000 --revisions 20000 --instances 200000  # wide
    python benchmarks/bench_e2e.py --entries 10000000 --days 10  # 10 days of 1M, last 24 h
    python benchmarks/bench_e2e.py --keep /tmp/e2e --reuse       # skip generating again
    python benchmarks/bench_e2e.py --corpus export.jsonl         # any export instead
    python benchmarks/bench_e2e.py --corpus export.json.gz sink/ # arrays, gzip, a sink's tree
    python benchmarks/bench_e2e.py --layout sink                 # a file per log and hour

With --corpus the files are timed as they are (no corpus is generated; the shape flags are
ignored), and the window analysed is the 24 h ending at the first whole minute after their latest
entry. NDJSON is loaded by read_ndjson, a JSON array export (`gcloud logging read --format=json`)
by read_json's array format; when a line that is not JSON fails the strict load, the yardstick is
the load that skips it (ignore_errors), as forensics skips it and keeps the rest.

Measured (1M entries, 18 revisions, 1 day; CPU s and ratio to the raw load's CPU s; load
average 11-19): at 0.3.0 the moved window cost 14.50 s, 0.94x (the same window, from the kept
model, 2.39 s, 0.16x); at 1f37dad (stored error texts, the RE2 mark, traffic read once, minute
arithmetic, 2-day look-back) 7.62 s, 0.62x (the same window 2.34 s, 0.19x). README
"Benchmarks" has the table and where the rest goes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_corpus import Shape
from sink_layout import write_sink_layout

_RAW = """
import duckdb, sys, time
conn = duckdb.connect(sys.argv[2])
conn.execute("SET threads = 1")
conn.execute("SET enable_progress_bar = false")
files = sys.argv[1].split("\\n")  # a sink layout's files, or the one corpus file
# each log's entries have their own fields: the union of the files' columns
union = ", union_by_name = true" if len(files) > 1 else ""
reader = {  # DuckDB's own reader for the export's format (corpus_format)
    "ndjson": "read_ndjson(?{})",
    "array": "read_json(?, format = 'array'{})",
    "auto": "read_json(?, format = 'auto'{})",
}[sys.argv[3]]
tolerant = 0
for options in (union, union + ", ignore_errors = true"):
    start, cpu = time.perf_counter(), time.process_time()
    try:
        conn.execute(f"CREATE TABLE t AS SELECT * FROM {reader.format(options)}", [files])
        break
    except duckdb.Error as err:
        # a line that is not JSON fails the strict load; forensics skips it and keeps the rest,
        # and so does DuckDB told to ignore errors (NDJSON only): that load is the yardstick
        if tolerant or sys.argv[3] != "ndjson":
            sys.exit(str(err).splitlines()[0])
        tolerant = 1
load, load_cpu = time.perf_counter() - start, time.process_time() - cpu
print(load, load_cpu, conn.execute("SELECT count(*) FROM t").fetchone()[0], tolerant)
"""

_EXPORT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz")


def corpus_files(paths: list[Path]) -> list[Path]:
    """The export files ``paths`` name: a file as it is, a directory (a log sink's tree) as
    every export file under it, hidden ones left out, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.name.endswith(_EXPORT_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return found


def corpus_format(paths: list[Path]) -> str:
    """How DuckDB reads the files: "ndjson" (read_ndjson), "array" (one JSON array each, as
    `gcloud logging read --format=json` writes), or "auto" when they differ."""
    kinds = set()
    for path in paths:
        try:
            with path.open("rb") as file:
                packed = file.read(2) == b"\x1f\x8b"
                file.seek(0)
                with gzip.open(file) if packed else file as text:
                    start = text.read(65536).lstrip(b"\xef\xbb\xbf \t\r\n")
        except (OSError, EOFError) as err:
            sys.exit(f"{path}: cannot read the corpus: {err}")
        kinds.add("array" if start.startswith(b"[") else "ndjson")
    return kinds.pop() if len(kinds) == 1 else "auto"


# The latest entry's time in the raw load's table (its own column type, whatever DuckDB inferred):
# an export given with --corpus is analysed for the 24 h that end at its last whole minute after it.
_LATEST = """
import duckdb, sys
conn = duckdb.connect(sys.argv[1], read_only=True)
conn.execute("SET TimeZone = 'UTC'")
latest = "max(TRY_CAST(CAST(\\"timestamp\\" AS VARCHAR) AS TIMESTAMPTZ))"
row = conn.execute(f"SELECT strftime({latest}, '%Y-%m-%dT%H:%M:%S') FROM t").fetchone()
print(row[0] if row and row[0] else "")
"""


def _timed(
    argv: list[str], env: dict[str, str], capture_errors: bool = False
) -> tuple[dict[str, float], str, str]:
    """Run ``argv`` as a child: wall time, exit code, peak RSS (its own, via wait4), stdout,
    and stderr with ``capture_errors`` (else the terminal shows it)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        stderr = errors if capture_errors else None
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=stderr)
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    figures = {
        "seconds": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,  # steadier than wall time on a busy machine
        "rss_mib": usage.ru_maxrss / 1024,
        "exit": float(proc.returncode),
    }
    return figures, out, err


def _raw(paths: list[Path], db: Path, env: dict[str, str]) -> dict[str, float]:
    """DuckDB's own load of ``paths`` in one statement; ``seconds`` and ``load_cpu`` are the
    load itself, without the interpreter's start. ``tolerant`` is 1 when a line that is not
    JSON failed the strict load and the figures are of the load that skips such lines. A
    corpus DuckDB cannot read at all ends the run with its one-line error."""
    listed = "\n".join(str(path) for path in paths)
    argv = [sys.executable, "-c", _RAW, listed, str(db), corpus_format(paths)]
    figures, out, err = _timed(argv, env, capture_errors=True)
    if figures["exit"] or len(out.split()) != 4:
        why = (err.strip().splitlines() or ["no output"])[-1]
        where = str(paths[0]) + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
        sys.exit(f"{where}: DuckDB's own reader cannot load the corpus: {why}")
    seconds, load_cpu, rows, tolerant = out.split()
    return {
        **figures,
        "wall": figures["seconds"],
        "seconds": float(seconds),
        "load_cpu": float(load_cpu),
        "rows": float(rows),
        "tolerant": float(tolerant),
    }


def _median_raw(runs: list[dict[str, float]]) -> dict[str, float]:
    """The raw loads' median wall and CPU seconds (each its own median), the largest RSS."""
    return {
        **runs[0],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "load_cpu": statistics.median(r["load_cpu"] for r in runs),
        "rss_mib": max(r["rss_mib"] for r in runs),
    }


def _window_end(raw_db: Path, env: dict[str, str]) -> datetime:
    """The first whole minute after the latest entry of the raw load's table (UTC)."""
    out = subprocess.run(
        [sys.executable, "-c", _LATEST, str(raw_db)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not out:
        sys.exit(f"{raw_db}: the corpus has no readable timestamp to end the window at")
    latest = datetime.fromisoformat(out).replace(tzinfo=UTC)
    return latest.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _generate(path: Path, shape: Shape) -> int:
    """Write the corpus in a child process: the generator's memory would otherwise count in
    every later child's peak RSS (a forked child starts with its parent's pages)."""
    fields = {k: v for k, v in vars(shape).items() if k != "end"}
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        "from pathlib import Path; from e2e_corpus import Shape, write_corpus; "
        "print(write_corpus(Path(sys.argv[2]), Shape(**json.loads(sys.argv[3]))))"
    )
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here, str(path), json.dumps(fields)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip())


def _line(name: str, fig: dict[str, float], raw: dict[str, float], rate: bool = False) -> str:
    """Wall and CPU seconds, each as a ratio to the raw load's (CPU: steadier when loaded)."""
    ratio, cpu_ratio = fig["seconds"] / raw["seconds"], fig["cpu"] / raw["load_cpu"]
    # Wall time flatters ingest when the raw load waits on the disk (a 4M file: 66 s wall for
    # 34 CPU s), so the rate ratio is given on CPU time too.
    extra = (
        f"   rate ratio {raw['seconds'] / fig['seconds']:.2f}x raw"
        f" (cpu {raw['load_cpu'] / fig['cpu']:.2f}x)"
        if rate
        else ""
    )
    failed = "" if not fig.get("exit") else f"   EXIT {int(fig['exit'])}"
    return (
        f"  {name:<14} {fig['seconds']:>8.2f} s {ratio:>6.2f}x raw   cpu {fig['cpu']:>7.2f} s "
        f"{cpu_ratio:>6.2f}x raw cpu{extra}   peak RSS {fig['rss_mib']:>6,.0f} MiB{failed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--entries",
        type=int,
        default=1_000_000,
        help="Total over all days (--entries / --days a day).",
    )
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument(
        "--revisions", type=int, default=18, help="Per day, total over all services."
    )
    parser.add_argument(
        "--instances", type=int, default=720, help="Per day, total over all revisions."
    )
    parser.add_argument("--error-rate", type=float, default=0.03, help="Share of error entries.")
    parser.add_argument("--traceback-lines", type=int, default=8, help="Lines per traceback.")
    parser.add_argument(
        "--days",
        type=int,
        default=1,
        help="Store span in whole days, each shaped like the 1-day corpus (the last one is the "
        "1-day corpus of --entries / --days entries); the last 24 h is analysed.",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--raw-runs",
        type=int,
        default=3,
        help="DuckDB raw loads to take the median of (the first before the forensics steps, "
        "the others after them).",
    )
    parser.add_argument(
        "--layout",
        choices=["file", "sink"],
        default="file",
        help="file: the corpus as one NDJSON file; sink: a file per log and hour, as a log "
        "sink to Cloud Storage writes it (benchmarks/sink_layout.py), raw and ingest both "
        "reading all of them.",
    )
    parser.add_argument("--keep", type=Path, help="Directory for the corpus, stores and reports.")
    parser.add_argument("--reuse", action="store_true", help="Reuse the corpus in --keep.")
    parser.add_argument(
        "--corpus",
        type=Path,
        nargs="+",
        help="Time these exports instead of a generated corpus (shape flags ignored): NDJSON or "
        "JSON array files, gzipped or not, or directories of them (a log sink's tree); the 24 h "
        "analysed end at the first whole minute after their latest entry.",
    )
    args = parser.parse_args()

    shape = Shape(
        entries=args.entries,
        services=args.services,
        revisions=args.revisions,
        instances=args.instances,
        error_rate=args.error_rate,
        traceback_lines=args.traceback_lines,
        days=args.days,
        seed=args.seed,
    )
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for path in args.corpus or []:
        if not path.exists():
            sys.exit(f"{path}: no such file or directory")
    given = corpus_files([path.resolve() for path in args.corpus or []])
    if args.corpus and not given:
        sys.exit(f"{args.corpus[0]}: no export files (.json, .jsonl, .ndjson, .gz) there")
    corpus = given[0] if given else workdir / "corpus.jsonl"
    if not given and not (args.reuse and corpus.is_file()):
        start = time.perf_counter()
        written = _generate(corpus, shape)
        print(f"generated {written:,} entries in {time.perf_counter() - start:.1f}s → {corpus}")
    size = sum(path.stat().st_size for path in given or [corpus]) / 2**20
    if given:
        named = str(corpus) if len(given) == 1 else f"{len(given):,} files under {args.corpus[0]}"
        print(f"corpus: {named}, {size:,.0f} MiB (given)")
    else:
        print(
            f"corpus: {args.entries:,} entries requested ({args.entries // shape.days:,} a day), "
            f"{size:,.0f} MiB; {shape.services} services, "
            f"{shape.revisions:,} revisions, {shape.instances:,} instances, "
            f"{shape.error_rate:.1%} errors, {shape.traceback_lines}-line tracebacks, "
            f"{shape.days} day(s)"
        )
    for stale in [*workdir.glob("*.duckdb*"), *workdir.glob("cache/*")]:
        stale.unlink()

    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}
    env["FORENSICS_THREADS"] = "1"
    env["FORENSICS_CACHE_DIR"] = str(workdir / "cache")
    forensics = [sys.executable, "-m", "forensics"]
    store = workdir / "store.duckdb"
    files = given or [corpus]
    if args.layout == "sink":
        if len(files) > 1:
            sys.exit("--layout sink lays out one file as a sink writes it: give one --corpus file")
        sink = workdir / "sink"
        shutil.rmtree(sink, ignore_errors=True)
        files = write_sink_layout(corpus, sink)
        print(f"sink layout: {len(files):,} files (a file per log and hour) in {sink}")
    raw_runs = [_raw(files, workdir / "raw.duckdb", env)]
    end = _window_end(workdir / "raw.duckdb", env) if given else shape.end
    until = end.isoformat().replace("+00:00", "Z")
    later = (end + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    window = ["--hours", "24", "--until", until, "--no-collect", "--db", str(store)]
    moved = ["--hours", "24", "--until", later, "--no-collect", "--db", str(store)]

    commands = {
        "ingest": ["ingest", *map(str, files), "--db", str(store)],
        "analyze --out": ["analyze", *window, "--out", str(workdir / "out")],
        "analyze again": ["analyze", *window],
        "analyze +5 min": ["analyze", *moved],
        "--help": ["--help"],
    }
    steps = {name: _timed([*forensics, *argv], env)[0] for name, argv in commands.items()}
    # The yardstick itself swings (5.6-8.3 CPU s for one 1M file on this machine): the later
    # loads run after the forensics steps, and the median is the measure.
    for _ in range(args.raw_runs - 1):
        (workdir / "raw.duckdb").unlink(missing_ok=True)
        raw_runs.append(_raw(files, workdir / "raw.duckdb", env))
    raw = _median_raw(raw_runs)
    rows = int(raw["rows"])
    spread = ", ".join(f"{r['load_cpu']:.2f}" for r in raw_runs)
    reader = {"ndjson": "read_ndjson", "array": "read_json array"}.get(
        corpus_format(files), "read_json auto"
    )
    if any(r["tolerant"] for r in raw_runs):
        reader += ", ignore_errors: a line is not JSON"
    print(f"DuckDB {reader} (threads=1): {raw['seconds']:.2f} s (cpu {raw['load_cpu']:.2f} s) "
          f"for {rows:,} rows ({rows / raw['seconds']:,.0f} rows/s), "
          f"peak RSS {raw['rss_mib']:,.0f} MiB")  # fmt: skip
    print(f"  (the median of {len(raw_runs)} loads, CPU s {spread})")
    for name, fig in steps.items():
        print(_line(name, fig, raw, rate=name == "ingest"))
    print(
        json.dumps(
            {
                "shape": {**vars(args), "keep": str(args.keep)},
                "raw": raw,
                "raw_runs": raw_runs,
                "steps": steps,
                "window_end": until,
                "window_start": (end - timedelta(hours=24)).isoformat(),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
