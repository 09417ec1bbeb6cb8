"""How much history before the window an analysis reads: the look-back, one for every stage.

An analysis of a window never reads the whole store. Every store-wide stage (signature
matches, symptom attribution, metric signals, deploys and drift, fix rollouts, traffic since a
fix) reads ``[look-back start, window end)``, where the look-back start is the earlier of:

  - the window's start minus ``lookback_days`` (the baseline, default 2 days: causes logged
    before a symptom, the configuration a deploy changed, first seen), and
  - the fix time of any claimed fix no more than ``fix_lookback_days`` (default 14) before the
    window's start: status needs every line and request since the fix to call an issue
    REGRESSED or RESOLVED.

Both are ``settings:`` in the registry file (patterns/issues.yaml). A fix older than
``fix_lookback_days`` is judged on the look-back only: evidence and traffic since its start. So
the cost of an analysis follows the window and the look-back, not the store's age: a 10-day
store analysed for its last day reads what a 3-day one holds.

Cost: one ``revision_rollout`` scan of the bounded range per claimed fix revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.incidents.registry import Registry, TrackedIssue
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["LookBack", "look_back", "resolve_fix"]


@dataclass(frozen=True)
class LookBack:
    """The history one analysis reads, and the fix each tracked issue is judged against."""

    since: datetime  # every store-wide stage reads [since, until)
    until: datetime
    fixes: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def params(self) -> dict[str, datetime]:
        """The named queries' ``$since`` and ``$until`` for the look-back."""
        return {"since": self.since, "until": self.until}

    def as_dict(self) -> dict[str, str]:
        return {"since": _iso(self.since), "until": _iso(self.until)}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def resolve_fix(store: Store, issue: TrackedIssue, since: datetime) -> dict[str, Any] | None:
    """The fix to check the logs against: revision rollout first (found from ``since`` on),
    else the claimed time."""
    fix = issue.fixed_in
    if fix is not None:
        row = run_named(store, "revision_rollout", {"revision": fix.revision, "since": since}).row(
            0, named=True
        )
        when = row["ready_at"] or row["first_seen"]
        if when is not None:
            how = "Ready condition" if row["ready_at"] else "first entry on the revision"
            return {
                "service": fix.service or row["service"],
                "revision": fix.revision,
                "time": when,
                "source": f"rollout of {fix.revision} ({how})",
            }
    if issue.claimed_resolved_at is not None:
        note = f"; {fix.revision} is not in the store's look-back" if fix else ""
        return {
            "service": fix.service if fix else None,
            "revision": fix.revision if fix else None,
            "time": issue.claimed_resolved_at,
            "source": f"claimed_resolved_at{note}",
        }
    return None


def look_back(store: Store, window: Window, registry: Registry) -> LookBack:
    """The look-back of ``window`` (see the module docstring) with each issue's fix."""
    settings = registry.settings
    baseline = window.since - timedelta(days=settings.lookback_days)
    fix_bound = min(baseline, window.since - timedelta(days=settings.fix_lookback_days))
    fixes = {i.id: resolve_fix(store, i, fix_bound) for i in registry.issues if not i.meta}
    times = [
        f["time"]
        for f in fixes.values()
        if f is not None and fix_bound <= f["time"] <= window.until
    ]
    return LookBack(min([baseline, *times]), window.until, fixes)
