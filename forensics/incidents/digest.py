"""Which deploys and drift rows a bounded list shows, and the counts that summarise the rest.

A wide fleet rolls out thousands of revisions a day: the terminal table and the reports list a
bounded number of them (every failed rollout first, then the latest) and count the rest by kind
and service, so a reader sees what matters and how much was left out. ``analyze --json`` keeps
every marker. O(d log d) for d markers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["TOP_SERVICES", "counts", "shown"]

TOP_SERVICES = 10  # services named in a summary's per-service counts


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def shown(items: Sequence[Any], limit: int) -> list[Any]:
    """At most ``limit`` items in their input (time) order: every failed one first, then the
    latest (dicts or DeployMarker/Drift objects)."""
    if len(items) <= limit:
        return list(items)
    failed = [i for i, item in enumerate(items) if _get(item, "kind") == "failed"][:limit]
    keep = set(failed)
    for i in range(len(items) - 1, -1, -1):
        if len(keep) >= limit:
            break
        keep.add(i)
    return [items[i] for i in sorted(keep)]


def counts(items: Sequence[Any], listed: int, kinds: Iterable[str] | None = None) -> dict[str, Any]:
    """The summary of a bounded list: total, listed, left out, per kind (each item's ``kind``
    unless ``kinds`` are given: a drift row counts each change's kind), top services."""
    per_kind = Counter(
        kinds if kinds is not None else (str(_get(item, "kind") or "?") for item in items)
    )
    services = Counter(str(_get(item, "service") or "?") for item in items)
    return {
        "total": len(items),
        "listed": listed,
        "left_out": len(items) - listed,
        "by_kind": dict(sorted(per_kind.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_service": dict(sorted(services.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_SERVICES]),
        "services": len(services),
    }
