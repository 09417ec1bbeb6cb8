"""Postmortem timelines for an incident (or the whole window).

For one scope (a time range, optionally limited to some signatures and services) it finds:
  - first signal: the earliest signature match or metric signal;
  - impact start / end (``forensics.report.impact``: the first and last 5xx in a minute whose
    5xx ratio reached IMPACT_RATIO, or any 5xx where there is no complete denominator);
  - detection: the first ERROR-or-worse (or 5xx) matched entry, where a log alert on the
    catalog would first have fired;
  - deploys before and during it, and the ones that look like mitigations;
  - resolution: the later of the last matched entry and the impact end;
and counts failed starts, and affected revisions and instances. Every event cites the entry it
rests on or the named query that computed it.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.report.facts import entry_ref
from forensics.report.impact import RequestMinutes, impact_events, scope_impact
from forensics.report.markers import Markers
from forensics.report.records import (
    Affected,
    FailedStarts,
    Postmortem,
    QueryCite,
    TimelineEvent,
)
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["FAILED_START_SIGNATURES", "Scope", "postmortem"]

# Signatures whose entries mean an instance did not come up (counted as failed starts).
FAILED_START_SIGNATURES = (
    "startup/exit-code-3",
    "cloudrun/container-exit-nonzero",
    "cloudrun/instance-start-failed",
    "cloudrun/startup-probe-failed",
)
SIGNAL_LEAD = timedelta(minutes=30)  # capacity pressure may precede the first log line
DEPLOY_LEAD = timedelta(minutes=30)  # a deploy this soon before the first signal is a suspect
MITIGATION_WITHIN = timedelta(minutes=10)  # a rollout this soon after the last evidence: a fix?
ONGOING_WITHIN = timedelta(minutes=10)  # evidence this close to the window end: still going
MAX_DEPLOY_EVENTS = 10  # deploys one timeline lists (a wide fleet has hundreds near each)
_EARLIEST = datetime.min.replace(tzinfo=UTC)  # sorts an event without a time first


@dataclass(frozen=True)
class Scope:
    """What one postmortem covers: [start, end], some signatures (empty: all) and services.

    With no services given, requests count on the services its matches touched; with
    ``every_service`` (the whole window), on all of them.
    """

    key: str
    start: datetime
    end: datetime
    signatures: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    every_service: bool = False


def _minutes(delta: timedelta) -> str:
    if delta.total_seconds() < 60:
        return f"{int(delta.total_seconds())} s"
    total = int(delta.total_seconds() // 60)
    return f"{total // 60} h {total % 60:02d} min" if total >= 60 else f"{total} min"


def _signal_events(signals: list[dict[str, Any]], scope: Scope) -> list[TimelineEvent]:
    out = []
    for sig in signals:
        start = sig["start"]
        if not (scope.start - SIGNAL_LEAD <= start <= scope.end):
            continue
        label = f"Metric signal {sig['signal']} on {sig.get('service') or '?'}"
        if sig.get("peak") is not None and sig.get("threshold") is not None:
            label += f" (peak {sig['peak']:.3g} ≥ threshold {sig['threshold']:.3g})"
        cite = QueryCite("window_signals", {"signal": sig["signal"], "start": start})
        out.append(TimelineEvent(start, "signal", label, cite))
    return out


def _gap(when: datetime, first: datetime, last: datetime) -> timedelta:
    """How far ``when`` lies outside [first, last] (zero inside it)."""
    return max(first - when, when - last, timedelta(0))


def _deploy_events(
    deploys: Sequence[dict[str, Any]],
    first: datetime | None,
    resolved: datetime | None,
    project: str | None = None,
) -> tuple[list[TimelineEvent], int]:
    """Deploys of any service near the incident: a fix often ships on another service (an
    auth-service deploy ends the backend's auth timeouts), so none is filtered out by service.
    At most MAX_DEPLOY_EVENTS, the nearest to the incident; returns them and how many more
    deploys fell in the range. ``deploys`` are in time order: O(log d + near ones).
    """
    if first is None:
        return [], 0
    last = resolved or first
    # Markers keep their times: the near ones are found and ranked without making their dicts
    times = deploys.times if isinstance(deploys, Markers) else None
    if times is not None:
        lo = bisect_left(times, first - DEPLOY_LEAD)
        hi = bisect_right(times, last + DEPLOY_LEAD)
    else:
        lo = bisect_left(deploys, first - DEPLOY_LEAD, key=_deploy_time)
        hi = bisect_right(deploys, last + DEPLOY_LEAD, key=_deploy_time)
    picked: Sequence[int] = range(lo, hi)
    if hi - lo > MAX_DEPLOY_EVENTS:  # a wide fleet: the nearest ones, in time order
        nearest = heapq.nsmallest(  # O(n log k), not a sort of every near deploy
            MAX_DEPLOY_EVENTS,
            picked,
            key=lambda i: (
                _gap(times[i] if times is not None else deploys[i]["time"], first, last),
                i,
            ),
        )
        picked = sorted(nearest)
    near = [deploys[i] for i in picked]
    out = []
    for dep in near:
        when: datetime = dep["time"]
        what = dep.get("label") or f"Deploy of {dep.get('revision') or '?'}"
        if when < first:
            kind, label = "deploy", f"{what}, {_minutes(first - when)} before the first signal"
        elif when <= last:
            kind = "mitigation"
            label = f"{what} during the incident; the evidence ends {_minutes(last - when)} later"
        elif when <= last + MITIGATION_WITHIN:
            kind = "mitigation"
            label = f"{what}, {_minutes(when - last)} after the last evidence (none after it)"
        else:
            kind, label = "deploy", f"{what}, {_minutes(when - last)} after the last evidence"
        cite = entry_ref({**dep, "timestamp": when}, project)
        out.append(TimelineEvent(when, kind, label, cite, revision=dep.get("revision")))
    return out, hi - lo - len(out)


def _deploy_time(deploy: dict[str, Any]) -> datetime:
    return deploy["time"]


def _params(scope: Scope) -> dict[str, Any]:
    """The scope as the parameters of its cited queries (scope_match_edges, scope_affected)."""
    return {
        "since": scope.start,
        "until": scope.end,
        "signatures": ",".join(scope.signatures),
        "services": "" if scope.every_service else ",".join(scope.services),
        "failed_start": ",".join(FAILED_START_SIGNATURES),
    }


def _scope_rows(
    store: Store, scopes: list[Scope]
) -> tuple[list[dict[str, dict[str, Any]]], list[dict[str, Any]]]:
    """Every scope's match edges and affected facts in two statements (the scope_edges and
    scope_facts macros, forensics/store_macros.py, of which scope_match_edges.sql and
    scope_affected.sql are the one-scope form): O(entries and matches in the scopes' span),
    not two queries per scope."""
    listed = [
        {
            "scope": str(i),
            "since": p["since"],
            "until": p["until"],
            "signatures": p["signatures"],
            "services": p["services"],
        }
        for i, p in enumerate(_params(scope) for scope in scopes)
    ]
    edges: list[dict[str, dict[str, Any]]] = [{} for _ in scopes]
    if not scopes:
        return edges, []
    found = store.query(
        'SELECT * FROM scope_edges($scopes) ORDER BY scope, "timestamp", edge',
        {"scopes": listed},
    )
    for row in found.to_dicts():
        edges[int(row.pop("scope"))][row["edge"]] = row
    facts = store.query(
        "SELECT * FROM scope_facts($scopes, $failed_start)",
        {"scopes": listed, "failed_start": ",".join(FAILED_START_SIGNATURES)},
    )
    affected: list[dict[str, Any]] = [{} for _ in scopes]
    for row in facts.to_dicts():
        affected[int(row.pop("scope"))] = row
    return edges, affected


def postmortem(
    store: Store,
    scope: Scope,
    *,
    window: Window,
    requests: RequestMinutes,
    signals: list[dict[str, Any]],
    deploys: Sequence[dict[str, Any]],
    project: str | None,
) -> Postmortem:
    """The postmortem timeline and impact of one scope (see the module docstring)."""
    return postmortems(
        store,
        [scope],
        window=window,
        requests=requests,
        signals=signals,
        deploys=deploys,
        project=project,
    )[0]


def postmortems(
    store: Store,
    scopes: list[Scope],
    *,
    window: Window,
    requests: RequestMinutes,
    signals: list[dict[str, Any]],
    deploys: Sequence[dict[str, Any]],
    project: str | None,
) -> list[Postmortem]:
    """The postmortem of each scope, in order; the store is read once for all of them."""
    edges, affected = _scope_rows(store, scopes)
    return [
        _postmortem(
            scope,
            edges[i],
            affected[i],
            window=window,
            requests=requests,
            signals=signals,
            deploys=deploys,
            project=project,
        )
        for i, scope in enumerate(scopes)
    ]


def _postmortem(
    scope: Scope,
    edges: dict[str, dict[str, Any]],
    affected: dict[str, Any],
    *,
    window: Window,
    requests: RequestMinutes,
    signals: list[dict[str, Any]],
    deploys: Sequence[dict[str, Any]],
    project: str | None,
) -> Postmortem:
    """One scope's timeline and impact from its rows (``_scope_rows``)."""
    params = _params(scope)
    touched = [s for s in (affected["services"] or "").split(",") if s and s != "(none)"]
    services = [] if scope.every_service else list(scope.services) or touched
    events = _signal_events(signals, scope)
    for edge, kind, label in _EDGE_EVENTS:
        if edge in edges:
            row = edges[edge]
            events.append(
                TimelineEvent(row["timestamp"], kind, label.format(**row), entry_ref(row, project))
            )
    impact, minutes = scope_impact(
        requests, services, scope.start - timedelta(minutes=1), scope.end + timedelta(minutes=1)
    )
    events.extend(impact_events(impact, minutes, project))
    first_time = min((e.time for e in events if e.time is not None), default=None)
    # the duration runs from the first failure evidence, the first matched entry: a metric
    # signal before it is context, and a metric minute's start is no finer than the minute
    first_entry = edges.get("first")
    began = first_entry["timestamp"] if first_entry else first_time
    last = edges.get("last")
    impact_end = next((e.time for e in events if e.kind == "impact_end"), None)
    resolved_at = max(
        [t for t in (last and last["timestamp"], impact_end) if t],
        default=None,
    )
    deploy_events, deploys_left_out = _deploy_events(deploys, first_time, resolved_at, project)
    events.extend(deploy_events)
    ongoing = resolved_at is not None and window.until - resolved_at <= ONGOING_WITHIN
    if last is not None and resolved_at is not None:
        label = (
            "Still active at the end of the window: last matched entry"
            if ongoing
            else "Resolved: last matched entry"
        )
        events.append(
            TimelineEvent(
                resolved_at,
                "resolution",
                f"{label} ({last['signature']} on {last['service']})",
                entry_ref(last, project),
            )
        )
    events.sort(key=lambda e: (e.time or _EARLIEST, _KIND_ORDER.get(e.kind, 9)))
    affected_cite = QueryCite("scope_affected", params)
    impact = replace(
        impact,
        failed_starts=FailedStarts(
            instances=int(affected["failed_start_instances"] or 0),
            entries=int(affected["failed_start_entries"] or 0),
            signatures=FAILED_START_SIGNATURES,
            cite=affected_cite,
        ),
        affected=Affected(
            matches=int(affected["matches"] or 0),
            services=tuple(services or touched),
            revisions=tuple(r for r in (affected["revision_list"] or "").split(",") if r),
            instances=int(affected["instances"] or 0),
            cite=affected_cite,
        ),
    )
    return Postmortem(
        events=tuple(events),
        deploys_not_listed=deploys_left_out,
        ongoing=ongoing,
        first_signal=first_time,
        resolved_at=None if ongoing else resolved_at,
        started=began,
        duration=_minutes(resolved_at - began) if began and resolved_at else None,
        impact=impact,
    )


# (scope_match_edges row, event kind, label) for the events read straight off an entry.
_EDGE_EVENTS = (
    ("first", "first_signal", "First matched entry: {signature} on {service}"),
    ("detection", "detection", "Detectable: first {severity} entry matching {signature}"),
)
_KIND_ORDER = {
    "signal": 0,
    "deploy": 1,
    "first_signal": 2,
    "detection": 3,
    "impact_start": 4,
    "mitigation": 5,
    "impact_end": 6,
    "resolution": 7,
}
