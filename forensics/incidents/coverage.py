"""What the store holds for a window: entries per evidence source and data gaps.

Status needs these to tell "no evidence" (QUIET, RESOLVED) from "not collected" (NO_DATA); how
much traffic an absence of evidence rests on is forensics.incidents.traffic's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from forensics.incidents.registry import SOURCES
from forensics.sql import run_named
from forensics.store import Store

__all__ = ["Coverage", "window_coverage"]


@dataclass(frozen=True)
class Coverage:
    """Entries per source in the window and the data gaps overlapping it."""

    since: datetime
    until: datetime
    entries: dict[str, int]
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def gaps_for(self, source: str) -> list[dict[str, Any]]:
        """Gaps of one source: the collectors name them ``logging:<project>:<source>``, with a
        ``~N`` suffix when a long filter was split into several pulls (``run~2``)."""
        return [g for g in self.gaps if str(g["source"]).split(":")[-1].split("~")[0] == source]

    def collected(self, source: str) -> bool:
        """True when the source has entries in the window and no gap covers all of it."""
        if not self.entries.get(source):
            return False
        return not any(
            g["start"] <= self.since and g["end"] >= self.until for g in self.gaps_for(source)
        )


def window_coverage(store: Store, since: datetime, until: datetime) -> Coverage:
    """Entries per evidence source in [since, until) and the gaps overlapping it."""
    params = {"since": since, "until": until}
    row = run_named(store, "window_source_coverage", params).row(0, named=True)
    entries = {key: int(row[key.replace("-", "_")] or 0) for key in SOURCES}
    gaps = run_named(store, "window_source_gaps", params).to_dicts()
    return Coverage(since, until, entries, gaps)
