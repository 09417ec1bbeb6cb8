"""Print, per ground-truth scenario, which expected facts the analysis matched and which not.

Usage:
    python benchmarks/scenarios.py [NAME ...] [--matched] [--keep DIR]

NAME filters scenarios by name (default: every file in tests/scenarios/). ``--matched`` lists
the matched facts too; ``--keep DIR`` keeps each scenario's store, exports and report there.
Exit 1 when any fact is mismatched (known defects included: see tests/test_scenarios.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from forensics.scenarios import load_scenario, run_scenario, scenario_paths

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "tests" / "scenarios"


def _short(value: object, width: int = 150) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str]) -> int:
    show_matched = "--matched" in argv
    keep = Path(argv[argv.index("--keep") + 1]) if "--keep" in argv else None
    names = [a for a in argv if not a.startswith("--") and (keep is None or a != str(keep))]
    scenarios = [load_scenario(p) for p in scenario_paths(SCENARIO_DIR)]
    scenarios = [s for s in scenarios if not names or s.name in names]
    rows = []
    with tempfile.TemporaryDirectory(prefix="scenarios-") as tmp:
        base = keep or Path(tmp)
        for s in scenarios:
            started = time.perf_counter()
            result = run_scenario(s, base / s.name)
            elapsed = time.perf_counter() - started
            rows.append((s.name, s.collection, len(result.matched), len(result.facts), elapsed))
            print(
                f"\n{s.name} ({s.collection}, {result.entries:,} entries, {elapsed:.1f} s): "
                f"{len(result.matched)}/{len(result.facts)} facts matched"
            )
            for fact in result.facts:
                if fact.ok and not show_matched:
                    continue
                mark = "  ok  " if fact.ok else "  MISS"
                print(f"{mark} {fact.id}")
                if not fact.ok:
                    print(f"         expected: {_short(fact.expected)}")
                    print(f"         analysis: {_short(fact.actual)}")
    print(f"\n{'scenario':34} {'collection':10} {'matched':>7} {'facts':>5} {'time':>6}")
    for name, collection, matched, total, elapsed in rows:
        print(f"{name:34} {collection:10} {matched:>7} {total:>5} {elapsed:>5.1f}s")
    matched_all = sum(r[2] for r in rows)
    total_all = sum(r[3] for r in rows)
    print(f"{'total':34} {'':10} {matched_all:>7} {total_all:>5}")
    return 0 if matched_all == total_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
