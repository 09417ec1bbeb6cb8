"""Each tracked issue's status computed from evidence, next to its claimed status.

Rules (F = the fix time: the claimed fix revision's rollout, else ``claimed_resolved_at``):
  - NO_DATA: none of the issue's sources has entries in the window (or a data gap covers it).
  - REGRESSED: evidence on or after F (lines from older revisions of the fixed service that
    were still draining are not counted).
  - RESOLVED: no evidence since F, and since F at least ``min_requests_after_fix`` requests or
    ``min_starts_after_fix`` instance starts of the issue's services: absence means something.
  - ACTIVE: evidence in the window and no fix time; or evidence in the window before F (a
    window that ends before F, or too little traffic since F to call it resolved: the basis
    says so): the issue was active up to the fix, as claimed, which is no contradiction.
  - QUIET: no evidence in the window at all (and too little traffic since F, if any, to tell).
A claimed-resolved issue that is REGRESSED, or ACTIVE with no fix time, or a claimed-open one
that is RESOLVED, is a contradiction; the meta issue (``meta: contradictions``, #1176) is
ACTIVE when any exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from forensics.incidents.coverage import Coverage
from forensics.incidents.lookback import LookBack
from forensics.incidents.model import STATUSES, IssueStatus, iso
from forensics.incidents.registry import Registry, TrackedIssue
from forensics.incidents.revisions import place
from forensics.incidents.sightings import Sightings, last_before
from forensics.incidents.traffic import TrafficLedger, traffic
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["IssueEvidence", "compute_statuses", "order_statuses", "traffic_ledger"]

_REVISION_SEQ = re.compile(r"-(\d{5})-[a-z0-9]{3}$")


@dataclass(frozen=True)
class IssueEvidence:
    """An issue's evidence before the window's end: one row per line, signal or drift change.

    Columns: timestamp, signature (or signal / drift key), service, revision.
    """

    issue: TrackedIssue
    rows: pl.DataFrame
    incidents: list[str]


def _seq(revision: str | None) -> int | None:
    match = _REVISION_SEQ.search(revision or "")
    return int(match.group(1)) if match else None


def _after_fix(rows: pl.DataFrame, fix: dict[str, Any]) -> tuple[pl.DataFrame, int]:
    """Evidence on or after the fix, and how many lines came from older, draining revisions."""
    after = rows.filter(pl.col("timestamp") >= fix["time"])
    fixed_seq, service = _seq(fix.get("revision")), fix.get("service")
    if fixed_seq is None or service is None or after.is_empty():
        return after, 0
    older = after.filter(
        (pl.col("service") == service)
        & pl.col("revision").map_elements(
            lambda r: (_seq(r) or fixed_seq) < fixed_seq, return_dtype=pl.Boolean
        )
    )
    return after.join(older, on=after.columns, how="anti"), older.height


def _noun(issue: TrackedIssue) -> str:
    return "configuration changes" if issue.drift else "evidence lines"


def _last(rows: pl.DataFrame) -> str:
    last = rows.row(-1, named=True)
    return f"the last at {iso(last['timestamp'])} on {place(last)}"


def _top(counts: dict[str, int], n: int = 3) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"{v:,} {k}" for k, v in items)


def _revision(row: dict[str, Any] | None) -> str | None:
    return str(row["revision"]) if row and row.get("revision") else None


def _seen(
    store: Store, ev: IssueEvidence, found: Sightings, until: datetime
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The issue's first and last sighting before ``until``: the earlier of the store's first
    (forensics.incidents.sightings) and the first evidence line read; the last line read, else
    (none read) the store's last. O(1) but for a run spanning ``until`` (``last_before``)."""
    rows = ev.rows.filter(pl.col("timestamp") < until)
    first = rows.row(0, named=True) if rows.height else None
    last = rows.row(-1, named=True) if rows.height else None
    if found.first is not None and (first is None or found.first.timestamp < first["timestamp"]):
        first = found.first.row()
    if last is None and first is not None:
        before = last_before(store, ev.issue, found, until)
        last = before.row() if before is not None else first
    return first, last


def _status_of(
    ledger: TrafficLedger,
    ev: IssueEvidence,
    window: Window,
    coverage: Coverage,
    history: LookBack,
    sighted: tuple[dict[str, Any] | None, dict[str, Any] | None],
) -> IssueStatus:
    issue, rows = ev.issue, ev.rows.filter(pl.col("timestamp") < window.until)
    in_window = rows.filter(pl.col("timestamp") >= window.since)
    counts = dict(in_window.group_by("signature").len().iter_rows()) if in_window.height else {}
    counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    first, last = sighted
    # a drift issue's configuration changes are read from where its history starts only
    read_from = history.extended().get(issue.id, history.start) if issue.drift else None
    out = IssueStatus(
        id=issue.id,
        title=issue.title,
        url=issue.url,
        status="QUIET",
        claimed_status=issue.claimed_status,
        contradiction=False,
        evidence=counts,
        first_seen=first["timestamp"] if first else None,
        last_seen=last["timestamp"] if last else None,
        first_seen_revision=_revision(first),
        last_seen_revision=_revision(last),
        basis="",
        evidence_total=rows.height,
        incidents=list(ev.incidents),
        data_gaps=[g for s in issue.sources for g in coverage.gaps_for(s)],
        claim_source=issue.claim_source,
        first_seen_place=place(first),
        last_seen_place=place(last),
        first_seen_since=read_from,
    )
    if not any(coverage.collected(s) for s in issue.sources):
        out.status = "NO_DATA"
        out.basis = (
            f"None of its sources ({', '.join(issue.sources)}) has entries in the window "
            "(or a data gap covers it), so absence of evidence means nothing."
        )
        return out
    fix = history.fixes.get(issue.id)
    out.fix = fix
    if fix is None:
        _unfixed(out, in_window, counts, issue)
        return out
    if fix["time"] > window.until:
        _before_fix(out, in_window, counts, issue, fix)
        return out
    # Traffic of the services the evidence came from, and of the fixed one.
    services = set(rows["service"].cast(pl.String).drop_nulls().unique().to_list()) - {""}
    if fix.get("service"):
        services.add(str(fix["service"]))
    after, draining = _after_fix(rows, fix)
    # a fix older than the look-back is judged on it: traffic from its start
    seen = traffic(ledger, _fix_start(fix, history), window.until, sorted(services))
    out.after_fix = {"evidence": after.height, "older_revision_lines": draining, **seen.as_dict()}
    since = f"since the fix ({fix['source']}, {iso(fix['time'])})"
    if fix["time"] < history.since:
        since += f" (read from the look-back's start, {iso(history.since)})"
    volume = (
        f"{seen.requests:,} requests ({seen.requests_source}) and "
        f"{seen.instance_starts:,} instance starts"
    )
    if after.height:
        out.status = "REGRESSED"
        out.basis = (
            f"{after.height:,} {_noun(issue)} {since}, {_last(after)}; {volume} since the fix."
        )
    elif seen.requests >= issue.min_requests_after_fix or (
        seen.instance_starts >= issue.min_starts_after_fix
    ):
        out.status = "RESOLVED"
        before = f" ({in_window.height:,} lines in the window, all before it)" if counts else ""
        out.basis = (
            f"No evidence {since}{before} across {volume}; the threshold is "
            f"{issue.min_requests_after_fix:,} requests or {issue.min_starts_after_fix} starts."
        )
    elif in_window.height:
        # Evidence before the fix is evidence the issue was active until then; silence after
        # it means nothing without traffic, so the issue is not QUIET, and not RESOLVED.
        out.status = "ACTIVE"
        out.active_before_fix = True
        until = in_window.row(-1, named=True)["timestamp"]
        out.basis = (
            f"Fix claimed at {iso(fix['time'])} ({fix['source']}), evidence until "
            f"{iso(until)}: {in_window.height:,} {_noun(issue)} in the "
            f"window before it ({_top(counts)}), {_last(in_window)}; none since, but only "
            f"{volume} since the fix: too little to call it resolved (needs "
            f"{issue.min_requests_after_fix:,} requests or {issue.min_starts_after_fix} starts)."
        )
    else:
        out.status = "QUIET"
        out.basis = (
            f"No evidence in the window and none {since}, but only {volume}: too little to "
            f"tell (needs {issue.min_requests_after_fix:,} requests or "
            f"{issue.min_starts_after_fix} starts)."
        )
    return out


def _unfixed(
    out: IssueStatus, in_window: pl.DataFrame, counts: dict[str, int], issue: TrackedIssue
) -> None:
    claim = (
        "it is claimed resolved, but no fix time or revision is given, so every line counts "
        "against the claim"
        if issue.claims_resolved
        else "no fix is claimed"
    )
    if in_window.height:
        out.status = "ACTIVE"
        out.basis = (
            f"{in_window.height:,} {_noun(issue)} in the window ({_top(counts)}), "
            f"{_last(in_window)}; {claim}."
        )
    else:
        out.status = "QUIET"
        out.basis = f"No evidence in the window; {claim}."


def _before_fix(
    out: IssueStatus,
    in_window: pl.DataFrame,
    counts: dict[str, int],
    issue: TrackedIssue,
    fix: dict[str, Any],
) -> None:
    """The window ends before the claimed fix: its evidence is from before the fix, which is
    what the claim says (the issue was active until then), so ACTIVE up to the fix, never a
    contradiction; a window with none is QUIET. Nothing after the fix is in the window."""
    claim = f"the fix is claimed at {iso(fix['time'])} ({fix['source']}), after the window's end"
    if in_window.height:
        out.status = "ACTIVE"
        out.active_before_fix = True
        out.basis = (
            f"{in_window.height:,} {_noun(issue)} in the window ({_top(counts)}), "
            f"{_last(in_window)}; {claim}: the window says nothing about the fix."
        )
    else:
        out.status = "QUIET"
        out.basis = f"No evidence in the window; {claim}."


def _contradiction(status: IssueStatus) -> bool:
    if status.claimed_status == "resolved":
        if status.active_before_fix:
            return False  # active until the claimed fix: what the claim itself says
        return status.status in ("ACTIVE", "REGRESSED")
    return status.status == "RESOLVED"


def _meta(issue: TrackedIssue, others: list[IssueStatus]) -> IssueStatus:
    contradicted = [s for s in others if s.contradiction]
    with_data = [s for s in others if s.status != "NO_DATA"]
    status = "ACTIVE" if contradicted else ("QUIET" if with_data else "NO_DATA")
    if contradicted:
        listed = "; ".join(
            f"{s.id} claimed {s.claimed_status}, logs say {s.status}" for s in contradicted
        )
        basis = (
            f"{len(contradicted)} of {len(others)} tracked issues contradict their claims: "
            f"{listed}."
        )
    elif with_data:
        basis = f"No claim among {len(with_data)} issues with data is contradicted by the logs."
    else:
        basis = "No tracked issue has data in the window, so no claim can be checked."
    return IssueStatus(
        id=issue.id,
        title=issue.title,
        url=issue.url,
        status=status,
        claimed_status=issue.claimed_status,
        contradiction=issue.claims_resolved and bool(contradicted),
        evidence={f"contradiction/{s.id}": 1 for s in contradicted},
        first_seen=None,
        last_seen=None,
        first_seen_revision=None,
        last_seen_revision=None,
        basis=basis,
        evidence_total=len(contradicted),
        claim_source=issue.claim_source,
    )


def order_statuses(statuses: Sequence[IssueStatus]) -> list[IssueStatus]:
    """Contradictions first (REGRESSED before ACTIVE), then by status, keeping registry order."""
    rank = {s: i for i, s in enumerate(STATUSES)}
    indexed = list(enumerate(statuses))
    indexed.sort(key=lambda p: (not p[1].contradiction, rank.get(p[1].status, 99), p[0]))
    return [s for _, s in indexed]


def _fix_start(fix: dict[str, Any], history: LookBack) -> datetime:
    """Where the traffic since a fix is counted from: the fix, or the look-back's start for a
    fix older than it."""
    return max(fix["time"], history.since)


def traffic_ledger(store: Store, window: Window, history: LookBack) -> TrafficLedger:
    """The traffic of the window and since every fix the statuses count from, cut at the
    window's start and at those fixes: one read for all of them (forensics.incidents.traffic),
    from the earliest of them, not from the look-back's start (no range starts there)."""
    fixes = [
        _fix_start(f, history) for f in history.fixes.values() if f and f["time"] <= window.until
    ]
    since = min([window.since, *fixes])
    return TrafficLedger.read(store, since, window.until, [window.since, *fixes])


def compute_statuses(
    store: Store,
    registry: Registry,
    evidence: dict[str, IssueEvidence],
    window: Window,
    coverage: Coverage,
    history: LookBack,
    found: dict[str, Sightings],
    ledger: TrafficLedger | None = None,
) -> list[IssueStatus]:
    """Every tracked issue's status for ``window``, contradictions first; fixes and evidence
    come from the look-back (forensics.incidents.lookback), first sightings from the whole
    store (``found``: forensics.incidents.sightings). O(evidence rows) per issue; the
    traffic since every fix is read once (``ledger``, else ``traffic_ledger``)."""
    ledger = ledger or traffic_ledger(store, window, history)
    statuses: list[IssueStatus] = []
    for issue in registry.issues:
        if issue.meta:
            continue
        ev = evidence[issue.id]
        sighted = _seen(store, ev, found.get(issue.id, Sightings()), window.until)
        status = _status_of(ledger, ev, window, coverage, history, sighted)
        status.contradiction = _contradiction(status)
        statuses.append(status)
    metas = [_meta(i, list(statuses)) for i in registry.issues if i.meta]
    return order_statuses([*statuses, *metas])
