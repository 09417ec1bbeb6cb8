"""Compute the State of a window from the store: signature counts, templates, issue statuses.

Usage:
  1. ``window_state(store, window, label=..., sources=Sources.load(issues_file))`` classifies
     the window's entries (idempotent: the scope's previous matches are replaced) and reads
     every part in ``PARTS``: signature counts, unknown-error templates (issue 3's miner) and
     issue statuses (issue 5's ``build_analysis``).
  2. A part that fails is skipped with a note, never fatal: the other kinds are still recorded,
     and ``State.recorded`` says which ones were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics.errors import ForensicsError
from forensics.incidents import Registry, build_analysis, load_registry
from forensics.signatures import Catalog, classify_store, load_catalog
from forensics.signatures.mining import mine_templates
from forensics.snapshots.model import Item, State
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = [
    "PARTS",
    "Sources",
    "issue_items",
    "signature_items",
    "template_items",
    "window_state",
]


def _stamp(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class Sources:
    """What the parts read besides the store: the signature catalog and the issue registry."""

    catalog: Catalog
    registry: Registry

    @classmethod
    def load(cls, issues_file: Path | None = None) -> Sources:
        """The shipped catalog, and the registry with the user's file (see load_registry)."""
        return cls(load_catalog(), load_registry(issues_file))


def signature_items(store: Store, window: Window, sources: Sources) -> list[Item]:
    """One item per (signature, service): entries that matched it in the window."""
    rows = run_named(store, "window_signature_service_counts", window.params())
    return [
        Item(
            kind="signature",
            key=row["signature"],
            service=row["service"],
            count=int(row["n"]),
            details={
                "primary": int(row["n_primary"]),
                "first_seen": _stamp(row["first_seen"]),
                "last_seen": _stamp(row["last_seen"]),
                "example_insert_id": row["example_insert_id"],
            },
        )
        for row in rows.iter_rows(named=True)
    ]


def template_items(store: Store, window: Window, sources: Sources) -> list[Item]:
    """One item per unknown-error template (errors no signature explains) in the window.

    ``members`` keeps the masked texts merged into the template: a template's text (and so its
    id) depends on which variants a day happened to hold, so "new" is decided on members too.
    """
    return [
        Item(
            kind="template",
            key=t.id,
            service=None,
            count=t.count,
            details={
                "template": t.template,
                "services": t.services,
                "first_seen": _stamp(t.first_seen),
                "last_seen": _stamp(t.last_seen),
                "example_insert_id": t.example_insert_id,
                "members": sorted(t.members or [t.template]),
            },
        )
        for t in mine_templates(store, window.since, window.until)
    ]


ISSUE_DETAILS = ("title", "claimed_status", "contradiction", "basis", "evidence", "first_seen",
                 "last_seen", "url")  # fmt: skip


def issue_items(store: Store, window: Window, sources: Sources) -> list[Item]:
    """One item per tracked issue: its status over the window and what is claimed about it."""
    analysis = build_analysis(store, window, registry=sources.registry)
    return [
        Item(
            kind="issue",
            key=issue["id"],
            service=None,
            count=int(issue.get("evidence_in_window") or 0),
            status=issue["status"],
            details={key: issue.get(key) for key in ISSUE_DETAILS},
        )
        for issue in analysis["issues"]
    ]


# Each kind of item and the function that reads it; kinds without a reader are not recorded.
PARTS: dict[str, Callable[[Store, Window, Sources], list[Item]]] = {
    "signature": signature_items,
    "template": template_items,
    "issue": issue_items,
}


def window_state(
    store: Store,
    window: Window,
    *,
    label: str,
    classify: bool = True,
    sources: Sources | None = None,
) -> State:
    """Everything a snapshot or a watch run records about ``window``.

    Args:
        store: an open store (writable when ``classify`` is true).
        window: the period, e.g. one UTC day.
        label: how reports name the period (a date, or the window).
        classify: re-run the signature classification over the window first.
        sources: catalog and registry (default ``Sources.load()``); the catalog's version is
            recorded so that a diff can tell when it changed.
    """
    sources = sources or Sources.load()
    catalog = sources.catalog
    if classify:
        classify_store(store, catalog, since=window.since, until=window.until)
    entries = int(
        store.scalar(
            'SELECT count(*) FROM entries WHERE "timestamp" >= $since AND "timestamp" < $until',
            window.params(),
        )
        or 0
    )
    gaps = [
        {"source": r["source"], "start": _stamp(r["start"]), "end": _stamp(r["end"]),
         "reason": r["reason"]}
        for r in run_named(store, "window_data_gaps", window.params()).iter_rows(named=True)
    ]  # fmt: skip
    state = State(label=label, entries=entries, gaps=gaps, catalog_version=catalog.version)
    recorded: set[str] = set()
    for kind, read in PARTS.items():
        try:
            state.items.extend(read(store, window, sources))
        except ForensicsError as err:
            state.notes.append(f"{kind}s not recorded: {err}")
            continue
        recorded.add(kind)
    state.recorded = frozenset(recorded)
    return state
