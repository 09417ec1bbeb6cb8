"""What a snapshot holds: items (signature, template, issue) and what was recorded for a period.

A ``State`` is the same thing whether it comes from a stored day (``forensics snapshot``) or
is computed live for a window (``forensics watch``), so one diff engine serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "Item", "ItemKey", "State"]

# The item kinds a snapshot can record. "day" is the one summary row per stored day.
KINDS = ("signature", "template", "issue")

ItemKey = tuple[str, str, str | None]  # (kind, key, service)


@dataclass(frozen=True)
class Item:
    """One counted thing in a period: a signature on a service, a template, an issue."""

    kind: str
    key: str
    service: str | None
    count: int
    status: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ident(self) -> ItemKey:
        return (self.kind, self.key, self.service)


@dataclass
class State:
    """Everything recorded for one period (a UTC day or a watch window).

    ``recorded`` names the kinds that were actually computed: a day taken before unknown-error
    templates existed must not make every template look new, so comparisons skip a kind that
    either side did not record.
    """

    label: str
    entries: int
    items: list[Item] = field(default_factory=list)
    recorded: frozenset[str] = frozenset()
    gaps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    catalog_version: str = ""  # the signature catalog the counts were classified with

    def of_kind(self, kind: str) -> dict[ItemKey, Item]:
        return {item.ident: item for item in self.items if item.kind == kind}

    def counts(self, kind: str) -> dict[ItemKey, int]:
        return {item.ident: item.count for item in self.items if item.kind == kind}

    def summary(self) -> dict[str, Any]:
        """The day row's details: what was recorded and what was missing."""
        return {
            "recorded": sorted(self.recorded),
            "gaps": self.gaps,
            "notes": self.notes,
            "catalog_version": self.catalog_version,
        }
