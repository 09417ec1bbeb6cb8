"""Print template mining's grouping accuracy per loghub system, against drain3, in one run.

Usage:
    python benchmarks/mining_accuracy.py [DIR] [--target 0.95]

DIR defaults to ../shared/fixtures/loghub-dev (ten labelled loghub 2k samples). Each system's
lines are fed in both forms, the bare `Content` and the raw line with its header, to this
project's miner and to drain3 (default settings); the table shows grouping accuracy (GA) per
system and the averages, then the speed of each (lines/s over all lines; for forensics the
masking query in an in-memory DuckDB is included). Exit 1 when forensics is below drain3 on a
system or form, or its average is below the target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from forensics.signatures.mining_accuracy import TARGET, report

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "loghub-dev"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--target", type=float, default=TARGET)
    args = parser.parse_args(argv)
    lines, missed = report(args.directory, args.target)
    print("\n".join(lines + missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
