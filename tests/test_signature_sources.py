"""Every signature's match examples are sourced: five or more, each citing where its wording comes
from, from three or more sources; and each has no_match examples of lines that only talk about
the failure. The catalog holds at least forty signatures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forensics.signatures import load_catalog

PATTERNS = Path(__file__).resolve().parents[1] / "patterns"
_URL = re.compile(r"https?://\S+|\.\./shared/\S+|netra-systems/zen")


def _match_sources(sig_id: str) -> list[str | None]:
    """The `# source:` comment above each match example (None when an example has none)."""
    lines = (PATTERNS / f"{sig_id}.yml").read_text().splitlines()
    start, end = lines.index("  match:"), lines.index("  no_match:")
    sources: list[str | None] = []
    for i in range(start + 1, end):
        if lines[i].startswith("    - "):
            above = lines[i - 1].strip()
            sources.append(
                above.removeprefix("# source:").strip() if above.startswith("# source:") else None
            )
    return sources


def _source_key(comment: str) -> str:
    """Where a source comment points: its URL (page, not anchor), path or repository."""
    found = _URL.search(comment)
    key = found.group(0) if found else comment
    return key.split("#")[0].rstrip(").,")


CATALOG = load_catalog()
SIGNATURE_IDS = [sig.id for sig in CATALOG.active()]


def test_the_catalog_reaches_forty_signatures() -> None:
    assert len(SIGNATURE_IDS) >= 40


@pytest.mark.parametrize("sig_id", SIGNATURE_IDS)
def test_match_examples_cite_enough_sources(sig_id: str) -> None:
    sources = _match_sources(sig_id)
    assert len(sources) == len(CATALOG.get(sig_id).examples_match)
    unsourced = [i for i, s in enumerate(sources) if s is None]
    assert not unsourced, f"{sig_id}: match examples {unsourced} cite no source"
    assert len(sources) >= 5
    keys = {_source_key(s) for s in sources if s}
    assert len(keys) >= 3, sorted(keys)


@pytest.mark.parametrize("sig_id", SIGNATURE_IDS)
def test_has_examples_of_lines_that_only_talk_about_the_failure(sig_id: str) -> None:
    assert len(CATALOG.get(sig_id).examples_no_match) >= 2
