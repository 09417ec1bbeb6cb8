"""Every seed signature's match examples are sourced: five or more, from three or more sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forensics.signatures import load_catalog

PATTERNS = Path(__file__).resolve().parents[1] / "patterns"
SEEDS = (
    "auth/timeout",
    "cloudrun/container-exit-nonzero",
    "cloudrun/http-503",
    "cloudrun/instance-start-failed",
    "cloudrun/memory-limit-exceeded",
    "cloudrun/startup-probe-failed",
    "cloudsql/socket-failure",
    "cloudsql/too-many-clients",
    "health/ready-timeout",
    "sqlalchemy/queuepool-exhausted",
    "startup/db-init-timeout",
    "startup/exit-code-3",
    "vpc/connector-error",
    "websocket/handshake-race",
)
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


@pytest.mark.parametrize("sig_id", SEEDS)
def test_seed_match_examples_cite_enough_sources(sig_id: str) -> None:
    sources = _match_sources(sig_id)
    assert len(sources) == len(load_catalog().get(sig_id).examples_match)
    unsourced = [i for i, s in enumerate(sources) if s is None]
    assert not unsourced, f"{sig_id}: match examples {unsourced} cite no source"
    assert len(sources) >= 5
    assert len({_source_key(s) for s in sources if s}) >= 3, sorted(
        {_source_key(s) for s in sources if s}
    )


@pytest.mark.parametrize("sig_id", SEEDS)
def test_seed_has_examples_of_lines_that_only_talk_about_the_failure(sig_id: str) -> None:
    assert len(load_catalog().get(sig_id).examples_no_match) >= 2
