"""Compare a period's State with a baseline: new, gone, spikes, new templates, issue changes.

Usage:
  1. ``diff_days(store, day, "7d", rule)`` loads the stored snapshots and compares them.
  2. ``compare(current, baseline_states, rule)`` compares any States (``forensics watch``
     passes its previous run); ``Baseline.of(states)`` averages several days per day.
  3. ``DiffResult.needs_attention`` decides the exit code: 1 when something does.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from forensics.errors import InputError
from forensics.snapshots.model import ItemKey, State
from forensics.snapshots.spike import SpikeRule
from forensics.snapshots.storage import describe_days, load_day, missing_day_error, stored_days
from forensics.store import Store
from forensics.timeutil import parse_day

__all__ = [
    "Baseline",
    "DiffResult",
    "Gone",
    "IssueChange",
    "NewItem",
    "Spike",
    "baseline_days",
    "compare",
    "diff_days",
]

ATTENTION_STATUSES = ("REGRESSED", "ACTIVE")
NO_DATA = "NO_DATA"
_DAYS_SPEC = re.compile(r"^\s*(\d+)\s*d\s*$")


@dataclass(frozen=True)
class NewItem:
    """A signature (on a service) or an unknown-error template absent from the baseline."""

    kind: str
    key: str
    service: str | None
    count: int
    details: dict[str, Any]


@dataclass(frozen=True)
class Gone:
    """A signature in the baseline with no entry in the current period (good news)."""

    key: str
    service: str | None
    baseline: float


@dataclass(frozen=True)
class Spike:
    """A count that the spike rule says is far above its baseline."""

    key: str
    service: str | None
    count: int
    baseline: float
    ratio: float
    p_value: float


@dataclass(frozen=True)
class IssueChange:
    """An issue whose status changed, or whose claimed status the evidence contradicts."""

    id: str
    status: str
    previous: str | None
    claimed_status: str | None
    contradiction: bool
    attention: bool
    title: str | None = None
    basis: str | None = None  # issue 5's one sentence saying why, with the numbers


@dataclass
class DiffResult:
    """Everything `forensics diff` reports, in the order it is shown."""

    current: str
    baseline: str
    baseline_days: list[str]
    rule: SpikeRule
    issue_changes: list[IssueChange] = field(default_factory=list)
    new_signatures: list[NewItem] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)
    new_templates: list[NewItem] = field(default_factory=list)
    gone_signatures: list[Gone] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.new_signatures
            or self.spikes
            or self.new_templates
            or any(c.attention for c in self.issue_changes)
        )

    def as_dict(self) -> dict[str, Any]:
        """The `forensics diff --json` document (a stable contract)."""
        return {
            "current": self.current,
            "baseline": {"spec": self.baseline, "days": self.baseline_days},
            "needs_attention": self.needs_attention,
            "spike_rule": self.rule.as_dict(),
            "issue_changes": [asdict(c) for c in self.issue_changes],
            "new_signatures": [asdict(n) for n in self.new_signatures],
            "spikes": [asdict(s) for s in self.spikes],
            "new_templates": [asdict(n) for n in self.new_templates],
            "gone_signatures": [asdict(g) for g in self.gone_signatures],
            "notes": self.notes,
        }


@dataclass
class Baseline:
    """One or more States folded into per-day means (the baseline rate of each item)."""

    means: dict[ItemKey, float]
    recorded: frozenset[str]
    issues: dict[str, tuple[str, bool]]  # id -> (latest status with data, contradicted)
    template_keys: set[str]  # template ids and the masked texts merged into them

    @classmethod
    def of(cls, states: list[State]) -> Baseline:
        """Mean per day over the states that recorded each kind; latest issue status wins."""
        totals: dict[ItemKey, int] = {}
        for state in states:
            for ident, count in state.counts("signature").items():
                totals[ident] = totals.get(ident, 0) + count
        n = max(1, sum(1 for s in states if "signature" in s.recorded))
        issues: dict[str, tuple[str, bool]] = {}
        for state in states:  # oldest first, so the latest day's status overwrites...
            for item in state.of_kind("issue").values():
                # ...unless that day had no data for it: "was NO_DATA" would hide the last
                # status the evidence really showed
                if item.status != NO_DATA or item.key not in issues:
                    contradicted = bool(item.details.get("contradiction"))
                    issues[item.key] = (item.status or "", contradicted)
        recorded = frozenset(k for s in states for k in s.recorded)
        templates = {i.key for s in states for i in s.items if i.kind == "template"}
        templates |= {
            member
            for s in states
            for i in s.items
            if i.kind == "template"
            for member in i.details.get("members", [])
        }
        return cls({k: v / n for k, v in totals.items()}, recorded, issues, templates)


def baseline_days(spec: str, day: date) -> list[date]:
    """The days a baseline spec covers: 'Nd' is the N days before ``day``, else one DATE."""
    match = _DAYS_SPEC.match(spec)
    if match:
        n = int(match.group(1))
        if not 1 <= n <= 366:
            raise InputError(f"--baseline {spec!r}: use 1d to 366d, or a DATE")
        return [day - timedelta(days=k) for k in range(n, 0, -1)]
    other = parse_day(spec, "--baseline")
    if other == day:
        raise InputError(f"--baseline {spec}: the baseline must be another day than --date")
    return [other]


def _issue_changes(current: State, base: Baseline, first_run: bool) -> list[IssueChange]:
    """Issues whose status changed or whose claim became contradicted since the baseline.

    A contradiction that was already there is not a change (``forensics issues
    --fail-on-contradiction`` is the standing check). Without earlier statuses, the issues that
    need attention now (regressed, active, contradicted) are listed.
    """
    changes = []
    for item in current.of_kind("issue").values():
        status = item.status or ""
        contradicted = bool(item.details.get("contradiction"))
        before = None if first_run else base.issues.get(item.key)
        if before is None:
            listed = attention = contradicted or status in ATTENTION_STATUSES
        else:
            changed = before[0] != status
            newly_contradicted = contradicted and not before[1]
            listed = changed or newly_contradicted
            attention = newly_contradicted or (changed and status in ATTENTION_STATUSES)
        if listed:
            changes.append(
                IssueChange(
                    item.key,
                    status,
                    before[0] if before else None,
                    item.details.get("claimed_status"),
                    contradicted,
                    attention,
                    item.details.get("title"),
                    item.details.get("basis"),
                )
            )
    # REGRESSED first, then contradicted claims, then the rest; stable by id
    return sorted(
        changes, key=lambda c: (c.status != "REGRESSED", not c.contradiction, not c.attention, c.id)
    )


def compare(
    current: State, baseline: list[State], rule: SpikeRule, *, first_run: bool = False
) -> DiffResult:
    """Compare ``current`` with the baseline States (several days are averaged per day).

    With ``first_run`` there is nothing to compare with yet: only issues that need attention
    now (regressed, active, contradicted) are reported.
    """
    base = Baseline.of(baseline)
    result = DiffResult(current.label, "", [s.label for s in baseline], rule)
    result.issue_changes = _issue_changes(current, base, first_run or "issue" not in base.recorded)
    result.notes = _notes(current, baseline, base)
    if first_run:
        return result
    counts = current.counts("signature")
    for ident, item in sorted(current.of_kind("signature").items(), key=_order):
        mean = base.means.get(ident, 0.0)
        if mean == 0 and item.count > 0:
            result.new_signatures.append(
                NewItem("signature", item.key, item.service, item.count, item.details)
            )
        elif mean > 0:
            spike, p = rule.test(item.count, mean)
            if spike:
                result.spikes.append(
                    Spike(item.key, item.service, item.count, mean, item.count / mean, p)
                )
    for ident, mean in sorted(base.means.items(), key=_order):
        if mean > 0 and counts.get(ident, 0) == 0:
            result.gone_signatures.append(Gone(ident[1], ident[2], mean))
    if "template" in current.recorded and "template" in base.recorded:
        result.new_templates = [
            NewItem("template", i.key, i.service, i.count, i.details)
            for i in sorted(current.of_kind("template").values(), key=lambda i: -i.count)
            if i.key not in base.template_keys
            and base.template_keys.isdisjoint(i.details.get("members", []))
        ]
    result.spikes.sort(key=lambda s: s.p_value)
    return result


def _order(pair: tuple[ItemKey, Any]) -> tuple[str, str]:
    return (pair[0][1], pair[0][2] or "")


def _notes(current: State, baseline: list[State], base: Baseline) -> list[str]:
    notes = [
        f"incomplete data for {g['source']} between {g['start']} and {g['end']} ({g['reason']})"
        for g in current.gaps
    ]
    if current.entries == 0:
        notes.append(f"{current.label}: no entries stored (a quiet period, or nothing collected)")
    for kind, what in (("template", "unknown-error templates"), ("issue", "issue statuses")):
        if baseline and (kind not in current.recorded or kind not in base.recorded):
            side = current.label if kind not in current.recorded else "the baseline"
            notes.append(f"{what} were not recorded for {side}; not compared")
    older = sorted({s.label for s in baseline if s.catalog_version != current.catalog_version})
    if older:  # a signature added since would look new though its failure is old
        notes.append(
            f"the signature catalog changed since {older[0]}: a new signature may be an old "
            "failure recognised now; re-take the baseline days to compare like with like"
        )
    empty = [s.label for s in baseline if s.entries == 0]
    if empty:  # they lower the baseline's means: a quiet day, or one that was not collected
        notes.append(f"baseline days with no entries stored: {', '.join(empty)}")
    for state in baseline:
        notes.extend(f"baseline {state.label}: {note}" for note in state.notes)
    notes.extend(f"{current.label}: {note}" for note in current.notes)
    return notes


def diff_days(store: Store, day: date | None, spec: str, rule: SpikeRule) -> DiffResult:
    """Compare the snapshot of ``day`` (default: the latest) with the baseline ``spec``.

    Raises InputError (exit code 2) when the day or every baseline day lacks a snapshot,
    naming the days that have one.
    """
    days = stored_days(store)
    if day is None:
        if not days:
            raise InputError("no snapshots yet: run `forensics snapshot --date YYYY-MM-DD` first")
        day = days[-1]
    current = load_day(store, day)
    wanted = baseline_days(spec, day)
    present = [d for d in wanted if d in set(days)]
    if not present:
        raise missing_day_error(store, wanted, f"snapshot in the baseline {spec}")
    result = compare(current, [load_day(store, d) for d in present], rule)
    result.baseline = spec
    missing = [d for d in wanted if d not in present]
    if missing:
        result.notes.insert(
            0,
            f"baseline {spec}: {len(present)} of {len(wanted)} days have a snapshot "
            f"(missing: {describe_days(missing)}); means are per day present",
        )
    return result
