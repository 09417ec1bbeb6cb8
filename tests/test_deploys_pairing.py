"""Deploy pairing by bisection gives exactly what the plain rule says, on any event list.

The rule (forensics.incidents.deploys; the kind of each marker and the previous-revision links
are shared with it): each Ready event goes to the call of its service nearest it in time among
those at most 15 min before it or 2 min after it (the call before it on equal distance, then
the first call), and each call keeps the nearest event it was given (the first on equal
distance); a revision label no event names goes to the last unnamed call of its service between
15 min before and 2 min after it. The reference below applies that rule by scanning every call
for every event; the indexed one must agree with it event for event.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.incidents import deploys
from forensics.incidents.deploys import _AFTER, _BEFORE, _Event, _marker

T0 = datetime(2025, 9, 16, tzinfo=UTC)


def _reference_assign(events: list[_Event], kind: str) -> dict[int, _Event]:
    calls = [e for e in events if e.kind == "call"]
    kept: dict[int, tuple[timedelta, int, _Event]] = {}
    for order, event in enumerate(e for e in events if e.kind == kind):
        near = [
            (abs(event.time - call.time), 0 if call.time <= event.time else 1, index, call)
            for index, call in enumerate(calls)
            if call.service == event.service
            and call.time - _BEFORE <= event.time <= call.time + _AFTER
        ]
        if not near:
            continue
        gap, _, _, call = min(near, key=lambda candidate: candidate[:3])
        held = kept.get(id(call))
        if held is None or (gap, order) < held[:2]:
            kept[id(call)] = (gap, order, event)
    return {key: event for key, (_, _, event) in kept.items()}


def _reference_markers(events: list[_Event]) -> list[dict[str, Any]]:
    reporting = {kind: _reference_assign(events, kind) for kind in ("revision", "service")}

    def pair(call: _Event, kind: str) -> _Event | None:
        found = reporting[kind].get(id(call))
        if found is not None:
            found.used = True
        return found

    calls = [e for e in events if e.kind in ("call", "connector")]
    out = [deploys._call_marker(call, pair)[0] for call in calls]
    named = {m.revision for m in out if m.revision}
    for rev in (e for e in events if e.kind == "revision" and not e.used):
        if rev.revision and rev.revision not in named:
            named.add(rev.revision)
            out.append(_marker(rev, "revision" if rev.ready is not False else "failed"))
    for label in (e for e in events if e.kind == "label" and e.revision not in named):
        near = [
            m
            for m in out
            if m.kind == "call"
            and m.revision is None
            and m.service == label.service
            and label.time - _AFTER <= m.time <= label.time + _BEFORE
        ]
        if near:
            max(near, key=lambda m: m.time).revision = label.revision
        else:
            out.append(_marker(label, "first-seen"))
    out.sort(key=lambda m: m.time)
    deploys._link_previous(out)
    return [m.as_dict() for m in out]


_event = st.builds(
    lambda n, minute, service, kind, revision, ready, severity: _Event(
        time=T0 + timedelta(minutes=minute),
        insert_id=f"id-{n}",
        service=service,
        kind=kind,
        method="m",
        severity=severity,
        revision=revision,
        ready=ready,
    ),
    n=st.integers(0, 10**6),
    # Clusters of a few minutes, 18 min apart (beyond the 15 min after a call): ties, the
    # "just before" branch and overlapping ranges all come up often.
    minute=st.sampled_from([0, 1, 2, 20, 21, 22, 40, 41, 42]),
    service=st.sampled_from(["a", "b"]),
    kind=st.sampled_from(["call", "call", "revision", "service", "label", "connector"]),
    revision=st.one_of(st.none(), st.sampled_from(["a-00001-x", "a-00002-y", "b-00001-z"])),
    ready=st.sampled_from([True, False, None]),
    severity=st.sampled_from(["NOTICE", "ERROR"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_event, max_size=40))
def test_indexed_pairing_agrees_with_the_plain_rule(events: list[_Event]) -> None:
    events.sort(key=lambda e: e.time)  # the query returns audit events in time order
    expected = _reference_markers(copy.deepcopy(events))
    got = [m.as_dict() for m, _ in deploys._markers(copy.deepcopy(events))]
    assert got == expected


def _ev(second: float, kind: str, n: int, revision: str | None = None) -> _Event:
    return _Event(
        time=T0 + timedelta(seconds=second),
        insert_id=f"id-{n}",
        service="orders-api",
        kind=kind,
        method="google.cloud.run.v1.Services.ReplaceService" if kind == "call" else "",
        severity="NOTICE" if kind == "call" else "INFO",
        revision=revision,
        ready=True if kind != "call" else None,
    )


def _paired(events: list[_Event]) -> dict[str, str | None]:
    """Each call's marker: its insert id -> the revision it is credited with."""
    return {
        m.insert_id: m.revision
        for m, _ in deploys._markers(events)
        if m.method.endswith("ReplaceService")
    }


def test_a_ready_event_goes_to_the_call_nearest_it_not_the_first_call_before_it() -> None:
    # A bad deploy at 14:10:00 whose revision never became Ready, then the fix deployed at
    # 14:12:30, Ready 20 s later: the fix's call rolled the fix out, not the bad one's.
    events = [
        _ev(0, "call", 1),
        _ev(150, "call", 2),
        _ev(170, "revision", 3, "orders-api-00012-fix"),
    ]
    assert _paired(events) == {"id-1": None, "id-2": "orders-api-00012-fix"}


def test_calls_logged_after_their_ready_events_each_keep_their_own() -> None:
    # The real export's order: Cloud Run logs the call when its operation ends, seconds after
    # the revision's Ready event (2025-08-25 16:19:01 Ready, 16:19:07 ReplaceService). Two
    # deploys five minutes apart: the first call must not take the second one's revision.
    events = [
        _ev(0, "revision", 1, "orders-api-00011-aaa"),
        _ev(6, "call", 2),
        _ev(300, "revision", 3, "orders-api-00012-bbb"),
        _ev(306, "call", 4),
    ]
    assert _paired(events) == {"id-2": "orders-api-00011-aaa", "id-4": "orders-api-00012-bbb"}
