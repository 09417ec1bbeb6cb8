"""Deploy pairing by time ranges gives exactly what the plain rule says, on any event list.

The rule (forensics.incidents.deploys; the kind of each marker and the previous-revision links
are shared with it): a call is paired with the first unused Ready event of its
service at or within 15 min after it, else the last one within 2 min before it; a revision label
no event names goes to the last unnamed call of its service between 15 min before and 2 min
after it. The reference below applies that rule by scanning every event for every call (the
former, quadratic implementation); the indexed one must agree with it event for event.
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


def _reference_pair(call: _Event, events: list[_Event], kind: str) -> _Event | None:
    same = [e for e in events if e.kind == kind and e.service == call.service and not e.used]
    after = [e for e in same if call.time <= e.time <= call.time + _AFTER]
    before = [e for e in same if call.time - _BEFORE <= e.time < call.time]
    found = (
        min(after, key=lambda e: e.time)
        if after
        else (max(before, key=lambda e: e.time) if before else None)
    )
    if found is not None:
        found.used = True
    return found


def _reference_markers(events: list[_Event]) -> list[dict[str, Any]]:
    def pair(call: _Event, kind: str) -> _Event | None:
        return _reference_pair(call, events, kind)

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
