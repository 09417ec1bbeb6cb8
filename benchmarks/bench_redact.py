"""Benchmark: redaction throughput (MB/s of text) on the real export and on hostile texts.

One process, CPU seconds (process_time), best of --repeat, all in the same run:
  real     every string (keys included) of each entry of ../shared/fixtures/real-staging/
           entries.jsonl through Redactor().text, as the outputs redact it; the same strings
           through the 0.4.0 rules (tests/redact_reference.py, behind today's needles); and
           DuckDB's own read_ndjson of the file (threads=1), the project's yardstick
  hostile  each shape of tests/hostile_texts.py at --sizes characters (MB/s, and the time per
           character at the largest size over that at the smallest: ~1 when linear), and the
           0.4.0 rules at the smallest size (at 10k characters they take seconds a shape)
MB here is 10^6 characters of text.

    python benchmarks/bench_redact.py [--repeat R] [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from bench_classify import _best

from forensics.redact import _COMPILED, Redactor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the hostile shapes and the 0.4.0 rules live with the tests

from tests.hostile_texts import hostile_texts  # noqa: E402
from tests.redact_reference import as_in_040  # noqa: E402

EXPORT = ROOT.parent / "shared" / "fixtures" / "real-staging" / "entries.jsonl"


def _strings(value: Any) -> Iterator[str]:
    """Every string of a JSON value, keys included (what Redactor.tree visits)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _old_redactor() -> Redactor:
    """A Redactor whose rewritten rules are as 0.4.0 wrote them (same needles, same pre-check)."""
    old = Redactor()
    old._compiled = as_in_040(_COMPILED)
    return old


def _mbps(chars: int, cpu: float) -> str:
    return f"{chars / cpu / 1e6:8.2f} MB/s" if cpu > 0 else "      -- MB/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    lines = EXPORT.read_text(encoding="utf-8").splitlines()
    texts = [s for line in lines for s in _strings(json.loads(line))]
    chars = sum(map(len, texts))
    new, old = Redactor(), _old_redactor()
    assert [new.text(t) for t in texts] == [old.text(t) for t in texts], "outputs differ"
    _, new_cpu = _best(args.repeat, lambda: [new.text(t) for t in texts])
    _, old_cpu = _best(args.repeat, lambda: [old.text(t) for t in texts])
    conn = duckdb.connect()
    conn.execute("SET threads = 1")
    _, raw_cpu = _best(
        args.repeat,
        lambda: conn.execute("SELECT count(*) FROM read_ndjson(?)", [str(EXPORT)]).fetchall(),
    )
    print(f"real export: {len(lines)} entries, {len(texts)} strings, {chars / 1e6:.2f} M chars")
    for label, cpu in (("now", new_cpu), ("0.4.0", old_cpu)):
        print(
            f"  redact ({label:5s}) {cpu:6.3f} CPU s {_mbps(chars, cpu)} {cpu / raw_cpu:5.1f}x raw"
        )
    print(f"  DuckDB read_ndjson (raw) {raw_cpu:6.3f} CPU s")

    print(f"hostile texts (Redactor(emails=True).text), CPU s and MB/s at {sizes} chars:")
    per_size = {n: hostile_texts(n) for n in sizes}
    for name in per_size[sizes[0]]:
        row, per_char = [], []
        for n in sizes:
            text = per_size[n][name]
            _, cpu = _best(args.repeat, lambda text=text: Redactor(emails=True).text(text))
            row.append(f"{cpu:7.4f} {_mbps(len(text), cpu)}")
            per_char.append(cpu / len(text))
        small = per_size[sizes[0]][name]
        _, old_cpu = _best(1, lambda small=small: old.text(small))
        growth = per_char[-1] / per_char[0] if per_char[0] else float("nan")
        print(f"  {name:36s} " + " | ".join(row) + f" | growth {growth:4.1f}", end="")
        print(f" | 0.4.0 at {sizes[0]}: {old_cpu:7.4f}")


if __name__ == "__main__":
    main()
