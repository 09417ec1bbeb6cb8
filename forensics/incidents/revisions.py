"""Per signature: first and last seen, and on which revision, over the store's history.

First seen comes from the whole store (forensics.incidents.sightings), the rest from the
look-back.

"First seen on revision X" after a deploy points at the deploy; "last seen on revision Y" before
one points at the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from forensics.incidents.model import iso
from forensics.incidents.sightings import Sighting
from forensics.timeutil import Window

__all__ = ["first_last_revision", "place", "signature_revisions"]


def first_last_revision(rows: pl.DataFrame) -> tuple[str | None, str | None]:
    """The revision of the first and of the last time-ordered row: each row's own.

    Cloud SQL lines and service-level audit entries carry no revision: theirs is None, never
    the revision of some other, later row (that would name a place the entry was not).
    """
    if rows.is_empty():
        return None, None
    return _revision(rows.row(0, named=True)), _revision(rows.row(-1, named=True))


def _revision(row: dict[str, Any]) -> str | None:
    return str(row["revision"]) if row.get("revision") else None


def place(row: dict[str, Any] | None) -> str | None:
    """Where an entry was logged, said the same way everywhere: its revision, else its service
    (a Cloud SQL database id, a connector), else None."""
    if row is None:
        return None
    return _revision(row) or (str(row["service"]) if row.get("service") else None)


def signature_revisions(
    matches: pl.DataFrame, window: Window, firsts: Mapping[str, Sighting] | None = None
) -> list[dict[str, Any]]:
    """One dict per signature seen in the window: counts, first/last seen and their revisions.

    Args:
        matches: every match of the look-back (primary rows are counted: ``count_total``).
        window: only signatures with a match in it are listed.
        firsts: each signature's first primary match in the whole store before the window's
            end (forensics.incidents.sightings): first seen is the earlier of it and the
            look-back's first. O(m log m) for the look-back's m matches.
    """
    primary = matches.filter(pl.col("is_primary")).sort("timestamp")
    inside = primary.filter(pl.col("timestamp") >= window.since)
    out = []
    for (signature,), rows in inside.group_by("signature", maintain_order=True):
        history = primary.filter(pl.col("signature") == signature)
        first, last = history.row(0, named=True), history.row(-1, named=True)
        first_revision, last_revision = first_last_revision(history)
        earlier = (firsts or {}).get(signature)
        if earlier is not None and earlier.timestamp < first["timestamp"]:
            first, first_revision = earlier.row(), _revision(earlier.row())
        per_revision = (
            rows.filter(pl.col("revision").is_not_null() & (pl.col("revision") != ""))
            .group_by("revision")
            .agg(pl.len(), pl.col("timestamp").min().alias("first"))
            .sort("first")
        )
        out.append(
            {
                "signature": signature,
                "count": rows.height,
                "count_total": history.height,
                "first_seen": iso(first["timestamp"]),
                "first_seen_revision": first_revision,
                "last_seen": iso(last["timestamp"]),
                "last_seen_revision": last_revision,
                "revisions": {r: int(n) for r, n, _ in per_revision.iter_rows()},
            }
        )
    return sorted(out, key=lambda r: (-r["count"], r["signature"]))
