"""Print per-signature precision and recall on labelled exports (default: the real fixture).

Usage:
    python benchmarks/accuracy.py [FILE ...] [--misses]

Defaults to ../shared/fixtures/real-staging/entries.jsonl and tests/fixtures/documented_forms.jsonl.
Exit 1 when a seed signature present in a file misses precision 0.99 or recall 0.98.
Then prints template mining's grouping accuracy per loghub system against drain3
(benchmarks/mining_accuracy.py, whose exit status says whether mining meets its targets).
"""

from __future__ import annotations

import sys
from pathlib import Path

from forensics.signatures.accuracy import SEED_SIGNATURES, evaluate_file
from forensics.signatures.mining_accuracy import report as mining_report

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = [
    ROOT.parent / "shared" / "fixtures" / "real-staging" / "entries.jsonl",
    ROOT / "tests" / "fixtures" / "documented_forms.jsonl",
]
PRECISION, RECALL = 0.99, 0.98
LOGHUB_DEV = ROOT.parent / "shared" / "fixtures" / "loghub-dev"  # mining's labelled samples


def _rate(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def main(argv: list[str]) -> int:
    show_misses = "--misses" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or DEFAULTS
    failing = 0
    for path in paths:
        report = evaluate_file(path)
        print(f"\n{path} ({report.entries:,} entries)")
        print(
            f"{'signature':34} {'labelled':>8} {'predicted':>9} {'correct':>7} "
            f"{'precision':>9} {'recall':>7}  seed"
        )
        for s in report.scores:
            seed = s.signature in SEED_SIGNATURES
            ok = (
                not seed
                or not s.labelled
                or ((s.precision or 0) >= PRECISION and (s.recall or 0) >= RECALL)
            )
            failing += not ok
            # the labels only name seed signatures: other signatures' rates are not defined
            precision, recall = (s.precision, s.recall) if seed else (None, None)
            print(
                f"{s.signature:34} {s.labelled:8} {s.predicted:9} {s.correct:7} "
                f"{_rate(precision):>9} {_rate(recall):>7}  {'yes' if seed else 'no'}"
                f"{'' if ok else '  BELOW TARGET'}"
            )
        if show_misses:
            for m in report.misses:
                text = (m.message or "").replace("\n", " ⏎ ")[:140]
                print(
                    f"  miss #{m.index}: {m.label}/{m.sublabel} expected {m.expected} "
                    f"got {m.predicted}: {text}"
                )
    if LOGHUB_DEV.is_dir():  # the mining table (benchmarks/mining_accuracy.py); exit unchanged
        table, missed = mining_report(LOGHUB_DEV)
        print("\n" + "\n".join(table + missed))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
