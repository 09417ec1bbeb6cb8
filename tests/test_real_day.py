"""The real-shaped benchmark corpus: the real staging export tiled, every entry kept distinct."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.ingest import ingest_files
from forensics.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
try:
    from real_day import END, EXPORT, write_real_day
finally:
    sys.path.pop(0)


def test_copies_tile_the_days_and_ingest_as_distinct_entries(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    copies, days = 3, 2
    written = write_real_day(out, copies, days)
    source = EXPORT.read_text().splitlines()
    assert written == copies * len(source)
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert not any(key.startswith("_") for entry in entries for key in entry)
    times = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in entries]
    assert END - timedelta(days=days) <= min(times) and max(times) < END
    assert times == sorted(times)  # copies follow each other, each in the export's order
    with open_store(tmp_path / "store.duckdb") as store:
        result = ingest_files(store, [out])
    # every entry is its own: no copy is taken for another's duplicate, none is rejected
    assert (result.accepted, result.duplicates, result.rejected) == (written, 0, 0)
    assert all(t.tzinfo == UTC for t in times)
