"""The end-to-end benchmark's corpus: an N-day store is a run of days shaped like the 1-day corpus.

A 10-day store analysed for its last 24 h is compared with a 1-day store (issue 11): the ratio
measures the look-back's cost only if the last day holds the same data in both.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

PER_DAY = 3_000


@pytest.fixture(scope="module")
def corpus() -> ModuleType:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import e2e_corpus
    finally:
        sys.path.pop(0)
    return e2e_corpus


def _entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _when(entry: dict) -> datetime:
    return datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))


def test_last_day_of_three_is_the_one_day_corpus(corpus: ModuleType, tmp_path: Path) -> None:
    one, three = tmp_path / "one.jsonl", tmp_path / "three.jsonl"
    written_one = corpus.write_corpus(one, corpus.Shape(entries=PER_DAY, days=1))
    written_three = corpus.write_corpus(three, corpus.Shape(entries=3 * PER_DAY, days=3))
    day = one.read_bytes()
    assert three.read_bytes().endswith(day)
    assert written_three > 2 * written_one


def test_earlier_days_are_days_of_their_own(corpus: ModuleType, tmp_path: Path) -> None:
    shape = corpus.Shape(entries=3 * PER_DAY, days=3)
    path = tmp_path / "three.jsonl"
    corpus.write_corpus(path, shape)
    entries = _entries(path)
    ids = [e["insertId"] for e in entries]
    assert len(set(ids)) == len(ids)
    # Each day deploys its own revisions within it (the first a minute before it starts) and
    # has its own crashes; no revision name comes back on a later day.
    revisions_by_day: dict[int, set[str]] = {}
    crashes: Counter[int] = Counter()
    for e in entries:
        back = int(e["insertId"].partition("-")[2] or 0)
        end = shape.end - timedelta(days=back)
        assert end - timedelta(days=1, minutes=2) <= _when(e) < end
        revision = e["resource"]["labels"].get("revision_name")
        if revision:
            revisions_by_day.setdefault(back, set()).add(revision)
        if "Database initialization timeout" in e.get("textPayload", ""):
            crashes[back] += 1
    assert sorted(revisions_by_day) == [0, 1, 2]
    names = [name for names in revisions_by_day.values() for name in names]
    assert len(set(names)) == len(names)
    assert all(crashes[back] for back in range(3))


def test_days_must_be_whole(corpus: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="whole"):
        corpus.write_corpus(tmp_path / "x.jsonl", corpus.Shape(entries=PER_DAY, days=1.5))
