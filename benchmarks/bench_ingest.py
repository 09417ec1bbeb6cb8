"""Benchmark: ingest against DuckDB's own raw NDJSON load, single-threaded, stage by stage.

Writes N entries as NDJSON, the demo's (``--corpus demo``) or the plain end-to-end corpus
(``--corpus plain``, benchmarks/e2e_corpus.py), then runs, ``--runs`` times back to back, each
phase in its own child process (so that peak RSS is the phase's own), all with threads=1:

  raw        CREATE TABLE t AS SELECT * FROM read_ndjson(file)   (DuckDB alone; the demo's
             file needs sample_size=-1: a field first seen late breaks the sampled schema)
  read       how ingest reads the file: a clean NDJSON file by DuckDB's line reader with the
             screen for long and deep lines (forensics.fastload), else cut into Arrow
             batches by forensics' reader (forensics.ndjson)
  normalize  read + the normalizing SELECT, every column computed, nothing written
  ingest     ingest_files into a fresh store (read, normalize, write, dedupe, commit)
  classify   then classify_pending, as `forensics ingest` does after loading

It prints CPU seconds (steadier than wall time on a shared machine) per phase and run, the
median over runs of ingest's rate as a ratio to raw's (raw CPU / ingest CPU; target >= 0.8),
classification's share of the CLI's work, and peak RSS (target <= 1 GB).

    python benchmarks/bench_ingest.py --entries 1000000 --corpus plain --runs 3

Measured with ``--entries 1000000`` on the shared 2-core machine (load average 7-19: the raw
load alone took 7.6 to 13.6 CPU s within a day, so a ratio moves by a third between runs; the
CPU seconds of one run are the figures to compare). Issue 11, item 3 (``--runs 1``,
2026-12-06/07): "before" is release 0.3.0 (f189853), "after" the blank-line filter as a CASE.
Issue 11, ingest at 0.8x (2026-12-07, three runs interleaved: in each, the raw load once, then
both trees' phases): "0.4.0" is 3b28e32 (0.4.0 and a redaction fix), "now" 155ee81 (lines cut
out by Arrow, no substr() in SQL; string columns' compression named; the reader's buffers from
the C allocator), each figure the median of its column. CPU s (user + sys); normalize =
(read + normalize) - read, write = ingest - (read + normalize); ratio = raw CPU / ingest CPU
(median of the runs' ratios):

  corpus (MiB)   code    raw    read   normalize  write  ingest  ratio  peak RSS (ingest+classify)
  plain (777)    before  12.80  2.41   18.61      10.88  31.90   0.40x  765 MiB
  plain (777)    after   13.57  2.54   15.05       8.60  26.19   0.52x  763 MiB
  plain (777)    0.4.0    8.59  1.51    8.39       6.99  16.55   0.54x  783 MiB
  plain (777)    now      8.59  1.67    6.31       7.19  15.17   0.63x  790 MiB
  demo (923)     before  32.30  1.79   13.33      19.62  34.74   0.93x  941 MiB
  demo (923)     after   27.65  2.58   17.49       6.50  26.57   1.04x  936 MiB
  demo (923)     0.4.0   18.68  1.78    9.96       8.35  20.15   0.98x  957 MiB
  demo (923)     now     18.68  2.17    9.24       7.80  19.81   0.94x  981 MiB

On the demo corpus the change is within the noise (ingest 17.0-20.2 CPU s now against
17.8-22.3; ratios 0.90-1.16x against 0.82-1.05x); its peak RSS grew by about 25 MiB (the C
allocator keeps some of the reader's freed chunks), under 1 GiB.

Where the plain corpus's ingest CPU goes now (perf over the whole load of the 1M entries):
JSON parsing (yyjson and json_transform's key matching) 11 %, zstd of ``raw`` 9 %, DuckDB's
string statistics (a UTF-8 scan and min/max of every stored string) 8 %, dictionary and FSST
compression 7 %, appending and re-reading strings while a row group fills 5 %, the reader (file
read, the bracket count that bounds nesting, Arrow's split) 10 %, memory copies, zeroing and
page faults 13 %, the kernel otherwise 6 %, and the normalizing expressions (about 40: the
RFC 3339 and plain-string checks, casts, url_decode, CASEs) the remaining 28 %, none above 1 %.
DuckDB's own load parses the same bytes once and writes the typed leaves, about the entry's
size; ingest parses once too but writes about 1.7 times that (the whole entry in ``raw``, 800
bytes here, beside 20 typed columns, labels and the instance id among them), every string paying
statistics and compression, and runs the checks that name a bad entry. 0.8x at these raw loads
means 10.7-14.2 CPU s: a third of the write and of the checks would have to go.

Earlier: the blank-line filter was ``starts_with(line, '{') OR trim(...) <> ''``: DuckDB ran
the trim() on every line (about 2 s per 1M in the whole load); a CASE runs it only on lines
that do not start with "{". Cutting the line end in SQL (substr(), which scans every character
of text whose statistics DuckDB does not know) cost 0.6 s per 1M; Arrow's split_pattern cuts
the lines out of each chunk without it, in about 0.5 s per 1M where a Python ``replace`` and
offset list took 1.4 s. Naming each string column's compression (forensics.schema) spares
DuckDB the analysis of every method at each row group: 1.50-1.55 against 1.73-1.74 s to write
250,000 plain rows, 1.72 against 1.93 s demo rows (best of 3, interleaved in one process).

Where the plain corpus's ingest goes, by ablation (2026-12-07, 250,000 entries normalized in
memory, and written from a normalized Arrow table into a fresh file table, min of 5-7 runs
interleaved; per 1M entries): the reader 1.4-1.5 s (0.45 s of it the bracket count of
``bytes.translate``), json_transform 1.5 s, the typed columns of the final SELECT 1.2 s, the
checks that name a bad entry (``ok`` and the problem CASEs) 1.6 s (the five plain-string checks
0.3 s, the two RFC 3339 regexps 0.1 s, the rest spread thin), the write 5.6 s, of which the
``raw`` column alone is 2.2 s (inserting NULL instead: 0.84 against 1.39 s per 250,000 rows;
zstd is a fifth of it, the rest is moving 800 bytes a row through append, statistics and the
checkpoint), dedupe and identities 0.1 s. 0.8x needs ingest at 8.9 s or less where raw takes
7.1 s: dropping every check and the whole ``raw`` column would only just reach it, so the plain
corpus needs a storage decision (what ``raw`` holds), not cheaper expressions. The severity's
nine-name IN list was planned as two hash joins (one CASE now checks and numbers it) and
upper() ran on every timestamp (now only on one that does not cast as it is): 0.05 s per
250,000 in the normalizing statement, below the noise of a whole load on the shared machine.
Not kept: instanceId cut out of the labels text by substr() when it is the only key (slower
than json_extract: substr and length count characters); the allocator flushing less often
(``allocator_flush_threshold`` 2GB: 3-5 % less CPU in three 250,000-entry pairs, but not
visible at 1M against the noise, and 140 MB more peak RSS).

Tried and not kept: ``raw`` as a residual (the entry without the fields the typed columns hold)
through ``json_merge_patch`` costs more than it saves (1.7 CPU s per 250,000 entries to compute
against 1.2 s to write the whole ``raw``) and rewrites numbers (1.50 as 1.5); any residual also
needs the original text of each typed field to rebuild the entry (the columns hold normalized
values: UTC times, the decoded logName, the upper-cased severity). ``raw`` as BLOB (no UTF-8
scan in its statistics: 1.69 against 1.73 s to write 250,000 rows, within the noise, and every
reader would need decode()) and uncompressed (2.10 against 1.67 s: more bytes to write, 6 times
the disk); Arrow's count_substring per line for the nesting bound (5 times the translate);
disabling FSST (3.15-3.27 against 3.30-3.52 s, for 34 % more disk).

The loader alone, looked at again (2026-12-07, py-spy --native over a 250,000-entry plain load,
then ablations in one process, min of 5-9 runs interleaved): the normalizing expressions are
36 % of the load's CPU (yyjson and json_transform 11 %), the write 32 % (zstd of ``raw`` 9 %,
dictionary 6 %, FSST 4 %, appending strings to the row group with their statistics 9 %), the
reader 12-16 %. The plain-string checks read the first character with ascii(), which decodes
the whole string (a UTF-8 scan of every textPayload); byte prefixes now: 1.24 against 1.29 s
to normalize 250,000 plain entries, 1.66 against 1.72 s demo ones; a whole plain load 3.45
against 3.52 s (median of 5 interleaved); at 1M, 12.07 against 12.94 s (median of 3, within
the noise). Tried and not kept, none beyond the noise: another compression for each string
column (labels, instance_id, message, the ids, http_url, json_payload: 1.85-2.04 s against
1.84 s to write 250,000 rows; message as zstd takes 11 % less disk at the same CPU, but
analyses read message); instanceId cut out by split_part or an anchored regexp; digit-led
plain strings tested by regexp instead of TRY_CAST; the plain-string checks as one AND without
a CASE (slower: json_valid and TRY_CAST then run on every value); line numbers added in Arrow
instead of made from a Python range; glibc's mmap and trim thresholds, allocator_flush_threshold
and allocator background threads (the same page faults: the peak RSS, touched once). DuckDB's
read_csv of lines is 0.27-0.29 s per 250,000 against the reader's 0.37-0.45 s, but the nesting
bound (bytes.translate, half of the reader, faster than bytes.split or bytes.count) would still
need the bytes. zstd's level is DuckDB's default (3), not a setting. No single expression of
the normalizing SELECT costs above 0.05 s per 250,000 when removed alone, and the plain checks
all together 0.27 s: the plain corpus's 0.8x still needs a decision on what ``raw`` stores.
The bound, measured whole at 1M plain entries (three runs interleaved with the raw load, each
phase in its own process, CPU s with imports, medians): the loader 12.48 s (0.59x the raw
load's 7.46 s); with ``raw`` written as NULL 10.21 s (0.70x); with the plain checks dropped too
(every entry taken as well formed) 9.31 s (0.77x). So even the whole ``raw`` and every check
together do not reach 0.8x: the typed columns' write (about 3.4 s) remains.

The whole-file load (2026-12-07, forensics/fastload.py): a clean NDJSON file goes through DuckDB's
read_csv (one VARCHAR column, no quoting, "\\n" line ends) into the same normalizing SELECT in one
statement, the screen for long and deep lines done in SQL (``strlen``; two ``string_split``
counts of brackets as the bound, the exact depth only past it). In one process, 1M plain
entries, CPU s: read_csv with the screen 0.50 (the reader: 1.93), + json_transform 1.5, + the
rest of the normalizing SELECT 2.0, then the write (about 5.4 from a normalized table in memory,
2.0 of it ``raw``: writing 500,000 rows without it, 1.75 against 2.7 s); the whole load 10.7-11.0
against the reader path's 12.7, and 42.2 against 49.3 at 4M; the real-shaped day's (bigger,
more varied entries, where the reader was slower) 10.7 against 15.4. A JSON array goes through
``read_json_objects(format = 'array')`` the same way (about 1 GB/s): 1M pretty-printed entries
(947 MB) 16.7 CPU s for the CLI's whole ingest, against 8.1 for DuckDB's own ``read_json`` of
the array. So on the plain corpus what remains is DuckDB's own work: its parse, the typed
columns' write and ``raw``; the checks and the extraction are about 2 s of the 11.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ANCHOR = datetime(2025, 9, 16, 12, 0, tzinfo=UTC)  # fixed, so runs are comparable
PHASES = ("raw", "read", "normalize", "ingest")
_NOT_NORMALIZED = ("source", "ingest_id")  # set by ingest itself, not by the normalizing SELECT


def _phase(name: str, path: Path, db: Path, full_sample: bool) -> dict[str, float]:
    """One phase in this (child) process: CPU seconds of the work alone, and what it made."""
    import duckdb

    from forensics.fastload import fast_path_applies, lines_sql
    from forensics.feed import Feed
    from forensics.ingest import READ_BATCH, ingest_files
    from forensics.normalize import normalize_sql
    from forensics.pipeline import Sources, classify_pending
    from forensics.readers import read_batches
    from forensics.schema import column_names
    from forensics.store import open_store

    out: dict[str, float] = {}
    start = time.process_time()
    if name == "raw":
        conn = duckdb.connect(str(db))
        conn.execute("SET threads = 1")
        conn.execute("SET enable_progress_bar = false")
        sample = ", sample_size=-1" if full_sample else ""
        conn.execute(f"CREATE TABLE t AS SELECT * FROM read_ndjson(?{sample})", [str(path)])
        out["rows"] = conn.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    elif name == "read":
        # What ingest_files reads the file with: DuckDB's line reader and its screen for a clean
        # NDJSON file (forensics.fastload), else the reader's Arrow batches.
        if fast_path_applies(path):
            conn = duckdb.connect()
            conn.execute("SET threads = 1")
            sql = f"SELECT count(*), bit_xor(hash(line, given_problem)) FROM ({lines_sql(path)})"
            out["rows"] = conn.execute(sql).fetchone()[0]  # type: ignore[index]
        else:
            feed = Feed(read_batches(path, READ_BATCH))
            out["rows"] = sum(batch.num_rows for batch in feed.reader())
    elif name == "normalize":
        conn = duckdb.connect()
        conn.execute("SET threads = 1")
        lines = None
        if fast_path_applies(path):
            lines = lines_sql(path)
        else:
            conn.register("batch", Feed(read_batches(path, READ_BATCH)).reader())
        # Every stored column computed (a hash of each, so that none is pruned), nothing written.
        cols = ", ".join(f'"{c}"' for c in column_names("log_entries") if c not in _NOT_NORMALIZED)
        sql = (
            f"SELECT count(*), bit_xor(hash({cols})) "
            f"FROM ({normalize_sql(strict=True, batch_sql=lines)}) WHERE problem IS NULL"
        )
        out["rows"] = conn.execute(sql).fetchone()[0]  # type: ignore[index]
    else:
        with open_store(db) as store:
            store.conn.execute("SET threads = 1")
            out["rows"] = ingest_files(store, [path]).accepted
            out["cpu"] = time.process_time() - start
            classify_pending(store, Sources.load().catalog)
            out["classify_cpu"] = time.process_time() - start - out["cpu"]
    out.setdefault("cpu", time.process_time() - start)
    return out


def _run_child(phase: str, path: Path, db: Path, full_sample: bool) -> dict[str, float]:
    """Run one phase in a fresh interpreter; its figures and peak RSS (via wait4)."""
    for stale in db.parent.glob(db.name + "*"):
        stale.unlink()
    argv = [sys.executable, __file__, "--phase", phase, "--file", str(path), "--db", str(db)]
    proc = subprocess.Popen([*argv, *(["--full-sample"] if full_sample else [])],
                            stdout=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"phase {phase} failed")
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    figures["rss_mib"] = usage.ru_maxrss / 1024
    return figures


def _write(path: Path, entries: int, corpus: str) -> None:
    if corpus == "demo":
        from forensics.demo import write_export

        write_export(path, n_entries=entries, end=ANCHOR, fmt="ndjson")
    else:
        from e2e_corpus import Shape, write_corpus

        write_corpus(path, Shape(entries=entries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--corpus", choices=["plain", "demo"], default="plain")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Directory to keep the export and stores in.")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--full-sample", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # child process
        print(json.dumps(_phase(args.phase, args.file, args.db, args.full_sample)))
        return

    os.environ.pop("FORENSICS_THREADS", None)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    export = workdir / f"{args.corpus}-{args.entries}.jsonl"
    if not export.is_file():
        _write(export, args.entries, args.corpus)
    print(f"{args.corpus} corpus: {export.stat().st_size / 2**20:,.0f} MiB → {export}")
    full_sample = args.corpus == "demo"
    runs = []
    for run in range(args.runs):
        figures = {p: _run_child(p, export, workdir / f"{p}.duckdb", full_sample) for p in PHASES}
        raw, ingest = figures["raw"], figures["ingest"]
        ratio = raw["cpu"] / ingest["cpu"]
        share = ingest["classify_cpu"] / (ingest["cpu"] + ingest["classify_cpu"])
        runs.append({"ratio": ratio, "figures": figures})
        print(
            f"run {run + 1}: CPU s raw {raw['cpu']:.2f} | read {figures['read']['cpu']:.2f} "
            f"| read+normalize {figures['normalize']['cpu']:.2f} | ingest {ingest['cpu']:.2f} "
            f"(+ classify {ingest['classify_cpu']:.2f}, {share:.0%} of the CLI's work) "
            f"| rate ratio {ratio:.2f}x raw | peak RSS raw {raw['rss_mib']:,.0f} MiB, "
            f"ingest+classify {ingest['rss_mib']:,.0f} MiB | rows {int(raw['rows']):,} / "
            f"{int(ingest['rows']):,}"
        )
    median = statistics.median(r["ratio"] for r in runs)
    print(f"median rate ratio ingest/raw: {median:.2f}x (target >= 0.80)")
    print(json.dumps({"corpus": args.corpus, "entries": args.entries, "runs": runs}))


if __name__ == "__main__":
    main()
