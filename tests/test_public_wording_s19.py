"""Other projects' failure wording (tests/fixtures/public_wording_s19.jsonl): every labelled line
gets its signature as primary, every near miss (`_expected: null`) gets none, through the same
classification `forensics classify` runs. A line marked `_gap` is a wording found but knowingly
not covered (its reason is in the file): it must still get what `_gap_gets` says, so closing the
gap, or a change that moves it elsewhere, shows here. Every line cites its `_source`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forensics.signatures import load_catalog
from forensics.signatures.classify_input import classify_files

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "public_wording_s19.jsonl"
LINES = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def primary() -> dict[str, str | None]:
    run = classify_files([FIXTURE], load_catalog())
    return {r.insert_id or "": r.signature for r in run.results}


def _want(line: dict) -> str | None:
    return line["_gap_gets"] if "_gap" in line else line["_expected"]


@pytest.mark.parametrize("line", LINES, ids=[line["insertId"] for line in LINES])
def test_each_line_gets_its_label(line: dict, primary: dict[str, str | None]) -> None:
    text = line.get("textPayload") or line.get("jsonPayload") or line.get("httpRequest")
    assert primary[line["insertId"]] == _want(line), (line["_source"], text)


def test_the_file_is_sourced_and_balanced() -> None:
    assert all(line.get("_source") for line in LINES)
    labelled = [line for line in LINES if line["_expected"]]
    near_misses = [line for line in LINES if not line["_expected"]]
    assert len(labelled) >= 60 and len(near_misses) >= 30
    assert all(line["_gap"] for line in LINES if "_gap" in line)
    assert len({line["insertId"] for line in LINES}) == len(LINES)
