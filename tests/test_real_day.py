"""The real-shaped benchmark corpus: the real staging export tiled, every entry kept distinct.

With ``vary`` each copy's message texts differ as a real day's do, in the same shapes.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.ingest import ingest_files
from forensics.pipeline import Sources, classify_pending
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


def _texts(entry: dict) -> list[str]:
    """The strings ``vary`` may change: textPayload, jsonPayload's strings, URL and latency."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(entry.get("textPayload"))
    walk(entry.get("jsonPayload"))
    request = entry.get("httpRequest") or {}
    walk([request.get("requestUrl"), request.get("latency")])
    return found


def _rest(entry: dict) -> dict:
    """``entry`` without the parts ``vary`` may change."""
    rest = {k: v for k, v in entry.items() if k not in ("textPayload", "jsonPayload")}
    if "httpRequest" in rest:
        rest["httpRequest"] = {
            k: v for k, v in rest["httpRequest"].items() if k not in ("requestUrl", "latency")
        }
    return rest


def _store_figures(tmp_path: Path, corpus: Path, written: int) -> tuple[int, list[tuple]]:
    """Ingest ``corpus`` alone: its distinct messages and its matches per signature."""
    with open_store(tmp_path / f"{corpus.stem}.duckdb") as store:
        result = ingest_files(store, [corpus])
        assert (result.accepted, result.duplicates, result.rejected) == (written, 0, 0)
        classify_pending(store, Sources.load().catalog)
        distinct = store.scalar("SELECT count(DISTINCT message) FROM entries")
        per_signature = store.conn.execute(
            "SELECT signature, is_primary, count(*) FROM signature_matches "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    return distinct, per_signature


def test_vary_makes_each_copy_say_its_own_messages_in_the_same_shapes(tmp_path: Path) -> None:
    plain, varied, one = tmp_path / "plain.jsonl", tmp_path / "varied.jsonl", tmp_path / "one.jsonl"
    written = write_real_day(plain, 2, 1)
    assert write_real_day(varied, 2, 1, vary=True) == written
    write_real_day(one, 1, 1)
    plain_entries = [json.loads(line) for line in plain.read_text().splitlines()]
    varied_entries = [json.loads(line) for line in varied.read_text().splitlines()]
    changed = 0
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")
    for before, after in zip(plain_entries, varied_entries, strict=True):
        assert _rest(after) == _rest(before)  # only the texts change: keys, times, ids stay
        for old, new in zip(_texts(before), _texts(after), strict=True):
            assert len(new) == len(old)  # same shape: every variable part keeps its length
            changed += new != old
            when = after["timestamp"][:19]
            for found in stamp.findall(new):  # a time in the text is the entry's own
                assert found.replace(" ", "T") == when
        latency = (after.get("httpRequest") or {}).get("latency")
        if latency:
            assert re.fullmatch(r"\d+\.\d+s", latency)
    assert changed > len(plain_entries) // 4
    plain_distinct, plain_matches = _store_figures(tmp_path, plain, written)
    varied_distinct, varied_matches = _store_figures(tmp_path, varied, written)
    one_distinct, _ = _store_figures(tmp_path, one, written // 2)
    # a plain copy repeats the first one's messages; a varied copy adds its own
    assert plain_distinct == one_distinct
    assert varied_distinct > 1.5 * one_distinct
    # short numbers, offsets and revision names stay: the catalog matches what it matched
    assert varied_matches == plain_matches
