"""How much history before the window an analysis reads: the look-back, one for every stage.

An analysis of a window never reads the whole store. Every store-wide stage (signature
matches, symptom attribution, deploys and drift) reads ``[baseline, window end)``, the baseline
being the window's start minus ``lookback_days`` (default 2 days: causes logged before a
symptom, the configuration a deploy changed, the evidence before the window statuses count).
An issue's first sighting is not read here: it comes from the whole store's per-run rollup of
the matches, O(runs) (forensics.incidents.sightings).

A claimed fix no more than ``fix_lookback_days`` (default 14) before the window's start, but
before the baseline, extends that issue's history alone back to its fix: status needs the
lines since the fix to call the issue REGRESSED or RESOLVED. The extension reads that issue's
direct evidence, its signature matches in ``[fix, baseline)``, from signature_matches only
(queries/range_signature_matches.sql, no entries): symptoms are attributed from the baseline
on, so an exit 3 before it counts for no issue (a fix that did not hold is REGRESSED on its
direct lines alone). Metric signals (a small table) are read from the earliest such fix;
traffic since a fix comes from the traffic read (forensics.incidents.traffic).
``LookBack.since`` is that earliest point read.

Both are ``settings:`` in the registry file (patterns/issues.yaml). A fix older than
``fix_lookback_days`` is judged on the baseline only: evidence and traffic since its start. So
the cost of an analysis follows the window and the baseline, not the store's age nor how old
the claimed fixes are: a 10-day store analysed for its last day reads what a 3-day one holds,
plus one scan of signature_matches per extended fix (and the traffic since that fix, which
``traffic`` counts over [fix, window end) from the per-hour ledger, and the per-minute one for
the hours a cut falls inside, not the entries: forensics.minute_ledger).

Cost: one ``revision_rollout`` scan per claimed fix revision; per extended fix one scan of
signature_matches over ``[fix, baseline)``, O(m), never the entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from forensics.incidents.deploys import deploys_and_drift
from forensics.incidents.evidence import issue_evidence
from forensics.incidents.model import Drift
from forensics.incidents.registry import Registry, TrackedIssue
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["Extension", "LookBack", "extensions", "look_back", "resolve_fix"]


@dataclass(frozen=True)
class LookBack:
    """The history one analysis reads, and the fix each tracked issue is judged against."""

    since: datetime  # the earliest time read: the baseline, or an extended fix before it
    until: datetime
    fixes: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    baseline: datetime | None = None  # every store-wide stage reads [baseline, until)

    @property
    def start(self) -> datetime:
        """Where the store-wide stages start reading: the baseline."""
        return self.baseline if self.baseline is not None else self.since

    def params(self) -> dict[str, datetime]:
        """The named queries' ``$since`` and ``$until`` for the whole look-back."""
        return {"since": self.since, "until": self.until}

    def extended(self) -> dict[str, datetime]:
        """Issue id → its fix time, for each fix read before the baseline (an extension)."""
        return {
            issue: fix["time"]
            for issue, fix in self.fixes.items()
            if fix is not None and self.since <= fix["time"] < self.start
        }

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
    return LookBack(min([baseline, *times]), window.until, fixes, baseline)


# Before the baseline no symptom is attributed (that reads entries): direct matches only.
_NO_SYMPTOMS = pl.DataFrame(
    schema={
        "timestamp": pl.Datetime("us", "UTC"),
        "log_name": pl.String(),
        "insert_id": pl.String(),
        "signature": pl.String(),
        "service": pl.String(),
        "revision": pl.String(),
        "instance_id": pl.String(),
        "cause": pl.String(),
        "cause_kind": pl.String(),
    }
)


@dataclass(frozen=True)
class Extension:
    """One issue's evidence between its fix and the baseline: lines (``issue_evidence``'s
    columns) and, for a drift issue, the configuration changes."""

    evidence: pl.DataFrame
    drift: list[Drift] = field(default_factory=list)


def extensions(
    store: Store, registry: Registry, history: LookBack, ranks: dict[str, int]
) -> dict[str, Extension]:
    """Each extended issue's evidence in [fix, baseline) (see the module docstring).

    Cost: per extended issue one scan of signature_matches over the range (no entries); the
    audit entries only for a drift issue.
    """
    out: dict[str, Extension] = {}
    for issue_id, fix_time in history.extended().items():
        issue = registry.get(issue_id)
        evidence = pl.DataFrame()
        signatures = sorted(set(issue.signatures))
        if signatures:
            params = {"since": fix_time, "until": history.start, "signatures": signatures}
            matches = run_named(store, "range_signature_matches", params)
            if not matches.is_empty():
                found = issue_evidence(matches, _NO_SYMPTOMS, registry, ranks)
                evidence = found.filter(pl.col("issue") == issue_id)
        drift = deploys_and_drift(store, history.start, fix_time)[1] if issue.drift else []
        out[issue_id] = Extension(evidence, drift)
    return out
