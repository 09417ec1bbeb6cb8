"""Tile the real staging export into a busy corpus for bench_e2e: real wording, real shapes.

The export (``../shared/fixtures/real-staging/entries.jsonl``, 4,898 entries over a month) is
copied ``--copies`` times over ``--days`` days ending 2025-09-17T00:00:00Z (bench_e2e's window
end): each copy squeezed into its share of the span in its own order, receiveTimestamp 150 ms
after the timestamp, insertIds made unique per copy (an entry without one keeps none, so the
store hashes it), the fixture's ``_`` keys (labels, provenance) dropped. 205 copies make about
1M entries (990 MB).

    python benchmarks/real_day.py --copies 205 --days 1 /tmp/real/corpus.jsonl
    python benchmarks/bench_e2e.py --keep /tmp/real --reuse --entries 1000000

(``--entries`` and ``--days`` only label bench_e2e's report with --reuse; pass the same days.)
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXPORT = Path(__file__).resolve().parents[2] / "shared/fixtures/real-staging/entries.jsonl"
END = datetime(2025, 9, 17, tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_real_day(out: Path, copies: int, days: int, export: Path = EXPORT) -> int:
    """Write the tiled corpus to ``out``; return the number of entries written."""
    rows = []
    for line in export.read_text().splitlines():
        entry = {k: v for k, v in json.loads(line).items() if not k.startswith("_")}
        when = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
        rows.append((when, entry))
    rows.sort(key=lambda row: row[0])
    first, last = rows[0][0], rows[-1][0]
    span = (last - first).total_seconds() or 1.0
    share = 86400.0 * days / copies  # seconds of the corpus each copy fills
    start = END - timedelta(days=days)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as sink:
        for copy in range(copies):
            base = start + timedelta(seconds=copy * share)
            for when, entry in rows:
                tiled = dict(entry)
                at = base + timedelta(seconds=(when - first).total_seconds() / span * share * 0.999)
                tiled["timestamp"] = _stamp(at)
                if "receiveTimestamp" in tiled:
                    tiled["receiveTimestamp"] = _stamp(at + timedelta(milliseconds=150))
                if entry.get("insertId"):
                    tiled["insertId"] = f"{entry['insertId']}-{copy}"
                sink.write(json.dumps(tiled, separators=(",", ":")) + "\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=205)
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    print(f"{write_real_day(args.out, args.copies, args.days):,} entries -> {args.out}")


if __name__ == "__main__":
    main()
