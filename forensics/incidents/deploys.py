"""Deploy markers and configuration drift from the Cloud Run and VPC Access audit logs.

Usage:
  ``deploys_and_drift(store, until, since)`` reads the audit entries of the look-back
  [since, until) (queries/store_audit_events.sql; forensics.incidents.lookback) and returns the
  deploy markers and the drift between each service's consecutive configurations, oldest first
  (callers keep the window's part). The last audit entries of each service before the
  look-back seed the configuration its first deploy in it is compared with.
  Cost: O(a log a) for a audit events and revision labels; one JSON parse per call's
  configuration, the rest read in DuckDB; O(s) per configuration compared.

A deploy call (``ReplaceService``, v2 ``UpdateService``/``CreateService``) is paired with the
"Ready condition ... for Revision X" system event of the same service nearest it in time (up
to 15 minutes after the call, or 2 minutes before it: Cloud Run logs the call when its
operation ends, seconds after the Ready event), which names the revision and says whether it
became ready. A call with no new revision is a traffic or no-op update.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from sys import intern
from typing import Any, Generic, TypeVar

import polars as pl

from forensics.incidents.config_diff import (
    RevisionConfig,
    config_changes,
    describe_change,
    run_config,
)
from forensics.incidents.evidence import EPOCH
from forensics.incidents.model import DeployMarker, Drift
from forensics.sql import run_named
from forensics.store import Store

__all__ = ["deploys_and_drift"]

_CALLS = ("ReplaceService", "UpdateService", "CreateService")
_AFTER = timedelta(minutes=15)  # a rollout takes minutes
_BEFORE = timedelta(minutes=2)  # the call is logged when its operation finishes
_NONE = timedelta.max  # no call on that side of an event
_SEED = 3  # audit entries per log and service read before the look-back: the configuration
# the first deploy in it changed (a call, its Ready event and the service's)


@dataclass(slots=True)
class _Event:
    time: datetime
    insert_id: str
    service: str
    kind: str  # call | revision | service | connector | label
    method: str
    severity: str
    revision: str | None = None
    ready: bool | None = None
    config: RevisionConfig | None = None
    principal: str | None = None
    message: str | None = None
    used: bool = False
    payload: str | None = None  # a Ready event's body (JSON text): its config, read when needed

    def revision_config(self) -> RevisionConfig | None:
        """The configuration this event carries; a Ready event's is parsed only when its call
        carries none (a wide fleet pairs tens of thousands)."""
        if self.config is None and self.payload is not None:
            self.config, self.payload = run_config(json.loads(self.payload)), None
        return self.config


# The store_audit_events columns an event is read from, in _parse's order (the SQL tells the
# event's kind, service, revision and readiness; only a configuration is parsed here).
_AUDIT_COLUMNS = (
    "timestamp", "insert_id", "service", "kind", "method", "severity", "revision", "ready",
    "principal", "message", "config_json",
)  # fmt: skip
_AuditRow = tuple[
    datetime, str, str, str, str, str, str | None, bool | None, str | None, str | None, str | None
]


def audit_rows(frame: pl.DataFrame) -> list[_AuditRow]:
    """store_audit_events' rows as plain tuples in _AUDIT_COLUMNS' order (a dict or a named
    tuple per row cost a wide fleet's 40,000 audit events more than reading them). O(a)."""
    return frame.select(_AUDIT_COLUMNS).rows()


def _connector_config(payload: dict[str, Any]) -> RevisionConfig | None:
    connector = (payload.get("request") or {}).get("connector")
    if not isinstance(connector, dict):
        return None
    keys = {"machineType": "machine_type", "minInstances": "min_instances"}
    keys["maxInstances"] = "max_instances"
    return {f"connector_{v}": connector[k] for k, v in keys.items() if k in connector}


def _parse(row: _AuditRow) -> _Event | None:
    """One audit event, as store_audit_events read it out of its payload in DuckDB; only a
    configuration is parsed here (a call's, eagerly; a Ready event's, when its call carries
    none). A connector update whose request names no setting is none. O(1) but the parse."""
    time, insert_id, service, kind, method, severity, revision, ready, principal, message, cfg = row
    config: RevisionConfig | None = None
    payload: str | None = None
    if kind == "connector":
        config = _connector_config(json.loads(cfg or "{}"))
        if not config:
            return None
    elif kind == "call":
        config = run_config(json.loads(cfg or "{}"))
    elif kind == "revision":
        payload = cfg
    # the few distinct services, methods and principals as one string each (a kept model's
    # pickle writes each once, not once per marker)
    return _Event(
        time, insert_id, intern(service), intern(kind), intern(method), intern(severity),
        revision, ready, config, principal and intern(principal), message, False, payload,
    )  # fmt: skip


_T = TypeVar("_T")


class _Timeline(Generic[_T]):
    """One service's items in time order (ties keep their input order), for range lookups.

    A lookup bisects to a time range and walks only that range: pairing costs
    O(n log n + n·k), k being the items of one service within minutes of each other, not the
    O(n²) of scanning every item for every call.
    """

    def __init__(self, items: list[_T], time_of: Callable[[_T], datetime]) -> None:
        self.items = sorted(items, key=time_of)  # stable
        self.times = [time_of(item) for item in self.items]

    def between(self, lo: datetime, hi: datetime, *, hi_open: bool = False) -> list[_T]:
        """Items with ``lo <= time <= hi`` (``< hi`` when ``hi_open``), in time order."""
        start = bisect_left(self.times, lo)
        end = (bisect_left if hi_open else bisect_right)(self.times, hi)
        return self.items[start:end]


def _timelines(
    items: list[_T], key: Callable[[_T], Hashable], time_of: Callable[[_T], datetime]
) -> dict[Hashable, _Timeline[_T]]:
    grouped: dict[Hashable, list[_T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return {k: _Timeline(v, time_of) for k, v in grouped.items()}


def _earliest_latest(items: list[_T], time_of: Callable[[_T], datetime]) -> _T | None:
    """The latest item of a time-ordered list; the first in input order among equal times."""
    if not items:
        return None
    latest = time_of(items[-1])
    return next(item for item in items if time_of(item) == latest)


def _nearest_events(calls: list[_Event], events: list[_Event]) -> dict[int, _Event]:
    """Which of ``events`` (Ready events of one kind, in time order) reports on which of
    ``calls``, keyed by ``id(call)``.

    Each event goes to the call of its service nearest it in time among those it may report
    on: one at most ``_AFTER`` before it (a rollout takes minutes) or at most ``_BEFORE`` after
    it (Cloud Run logs the call when its operation ends, seconds after the revision became
    Ready: the real export's calls follow their Ready events by 5-8 s); on equal distance the
    call before it. Each call keeps the nearest event it was given (the first on equal
    distance); the others stay unused. Nearest, not first: a bad deploy's call must not take
    the fix's Ready event from the fix's own call, nor a call the next deploy's.
    O(e log c): the event's two neighbouring calls, found by bisection, are the only
    candidates.
    """
    timelines = _timelines(calls, lambda call: call.service, _event_time)
    kept: dict[int, tuple[timedelta, int, _Event]] = {}
    for order, event in enumerate(events):
        timeline = timelines.get(event.service)
        if timeline is None:
            continue
        times, items, at = timeline.times, timeline.items, event.time
        after = bisect_right(times, at)  # items[:after]: the calls at or before it
        call: _Event | None = None
        gap = at - times[after - 1] if after else _NONE
        if gap <= _AFTER:
            # the latest call at or before it; among calls logged at that instant, the first
            last = times[after - 1]
            first = after - 1 if after < 2 or times[after - 2] != last else bisect_left(times, last)
            call = items[first]
        if after < len(times) and times[after] - at <= _BEFORE and times[after] - at < gap:
            gap, call = times[after] - at, items[after]  # nearer: the call logged after it
        if call is None:
            continue
        held = kept.get(id(call))
        if held is None or (gap, order) < held[:2]:
            kept[id(call)] = (gap, order, event)
    return {key: event for key, (_, _, event) in kept.items()}


def _event_time(event: _Event) -> datetime:
    return event.time


def _marker(event: _Event, kind: str, **facts: Any) -> DeployMarker:
    """The marker ``event`` makes, with ``facts`` in place of its own values."""
    marker = DeployMarker(
        event.time, event.service, kind, event.method, event.revision, None,
        event.time if event.ready else None, event.ready, event.principal, event.insert_id,
        [], event.message,
    )  # fmt: skip
    for name, value in facts.items():
        setattr(marker, name, value)
    return marker


_Pairing = Callable[[_Event, str], "_Event | None"]  # (call, kind) -> the event reporting on it


def _call_marker(call: _Event, pair: _Pairing) -> tuple[DeployMarker, RevisionConfig | None]:
    if call.kind == "connector":
        return _marker(call, "connector", revision=None), call.config
    rev = pair(call, "revision")
    svc = pair(call, "service")
    ready = rev.ready if rev else (svc.ready if svc else None)
    if ready is False or call.severity in ("ERROR", "CRITICAL"):
        kind = "failed"
    elif rev or svc:
        kind = "revision" if rev else "traffic"
    else:
        kind = "call"  # no Ready event in the store: the outcome is not in the logs
    marker = DeployMarker(
        call.time,
        call.service,
        kind,
        call.method,
        rev.revision if rev else (svc.revision if svc else None),
        None,  # previous_revision: _link_previous
        rev.time if rev and rev.ready else None,
        ready,
        call.principal,
        call.insert_id,
        [],
        (rev.message if rev else None) or (svc.message if svc else None),
    )
    return marker, call.config or (rev.revision_config() if rev else None)


def _markers(events: list[_Event]) -> list[tuple[DeployMarker, RevisionConfig | None]]:
    """Calls paired with their Ready events; revisions only Ready events or labels show.

    O(n log n) for n events (``_nearest_events``: each Ready event's neighbouring calls by
    bisection); a label's lookup walks the k calls of its service within its range.
    """
    calls = [e for e in events if e.kind == "call"]
    reporting = {
        kind: _nearest_events(calls, [e for e in events if e.kind == kind])
        for kind in ("revision", "service")
    }

    def pair(call: _Event, kind: str) -> _Event | None:
        found = reporting[kind].get(id(call))
        if found is not None:
            found.used = True
        return found

    out = [_call_marker(e, pair) for e in events if e.kind in ("call", "connector")]
    named = {m.revision for m, _ in out if m.revision}
    for rev in (e for e in events if e.kind == "revision" and not e.used):
        if rev.revision and rev.revision not in named:  # one revision may be Ready twice
            named.add(rev.revision)
            out.append(
                (
                    _marker(rev, "revision" if rev.ready is not False else "failed"),
                    rev.revision_config(),
                )
            )
    unnamed_calls = _timelines(
        [m for m, _ in out if m.kind == "call"], lambda m: m.service, _marker_time
    )
    for label in (e for e in events if e.kind == "label" and e.revision not in named):
        # the revision a call created: the last call of that service shortly before it
        timeline = unnamed_calls.get(label.service)
        nearby = timeline.between(label.time - _AFTER, label.time + _BEFORE) if timeline else []
        call = _earliest_latest([m for m in nearby if m.revision is None], _marker_time)
        if call is not None:
            call.revision = label.revision
        else:
            out.append((_marker(label, "first-seen"), None))
    out.sort(key=lambda pair: pair[0].time)
    _link_previous([marker for marker, _ in out])
    return out


def _link_previous(markers: list[DeployMarker]) -> None:
    """Each time-ordered marker's previous revision of its service; Ready again is traffic."""
    last: dict[str, str] = {}
    for marker in markers:
        marker.previous_revision = last.get(marker.service)
        if marker.kind == "revision" and marker.revision == marker.previous_revision:
            marker.kind = "traffic"  # Ready again for the revision already serving
        if marker.revision:
            last[marker.service] = marker.revision


def _marker_time(marker: DeployMarker) -> datetime:
    return marker.time


def _labels(store: Store, since: datetime, until: datetime, named: set[str]) -> list[_Event]:
    """Revisions as the logs' revision labels show them: one event at each one's first entry,
    but for the ``named`` ones (a Ready event names them: their label would say nothing).
    O(r) for r revisions; a wide fleet's audited ones are left out before any row is read."""
    params = {"since": since, "until": until}
    found = run_named(store, "store_revision_first_seen", params)
    if named and not found.is_empty():
        found = found.filter(pl.col("revision").is_in(sorted(named)).not_())
    rows = found.to_dicts()
    return [
        _Event(
            time=r["first_seen"],
            insert_id=r["first_insert_id"],
            service=r["service"],
            kind="label",
            method="revision label",
            severity="DEFAULT",
            revision=r["revision"],
            message=f"first entry of {r['revision']} (no audit entry names it)",
        )
        for r in rows
        if r["service"]
    ]


def deploys_and_drift(
    store: Store, until: datetime, since: datetime = EPOCH
) -> tuple[list[DeployMarker], list[Drift]]:
    """Every deploy marker and configuration drift in [since, until), oldest first."""
    params = {"since": since, "until": until, "seed": _SEED}
    rows = audit_rows(run_named(store, "store_audit_events", params))
    events = [e for e in map(_parse, rows) if e is not None]
    # every revision a Ready event names is a marker's (_markers): no label may add it again
    named = {e.revision for e in events if e.kind == "revision" and e.revision}
    markers: list[DeployMarker] = []
    drift: list[Drift] = []
    previous: dict[str, tuple[RevisionConfig, str | None]] = {}
    for marker, config in _markers(events + _labels(store, since, until, named)):
        markers.append(marker)
        if not config:
            continue
        before = previous.get(marker.service)
        if before is None and marker.kind == "connector":
            before = ({}, None)  # an update request names exactly what it changes
        previous[marker.service] = (config, marker.revision)
        if before is None:
            marker.changes = ["no earlier configuration in the store"]
            continue
        changes = config_changes(before[0], config)
        marker.changes = [describe_change(c) for c in changes]
        if changes:
            drift.append(
                Drift(
                    marker.service,
                    marker.time,
                    before[1],
                    marker.revision,
                    changes,
                    marker.insert_id,
                )
            )
    # A call whose outcome is not in the logs and that changed nothing says nothing: not listed.
    said = [m for m in markers if m.kind != "call" or m.revision or m.changes]
    return said, drift
