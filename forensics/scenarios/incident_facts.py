"""Expected incidents against the analysis's: one-to-one assignment, then a fact per field.

An expected incident is judged against the actual incident of the same service closest to it
(by start and end), each actual incident used once, so one incident that swallowed two expected
ones matches only one of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forensics.scenarios.facts import Fact, Judge, near, parse_at
from forensics.scenarios.model import Scenario

__all__ = ["count_fact", "incident_facts"]


def _expected_spans(s: Scenario) -> list[tuple[str, datetime, datetime]]:
    return [
        (str(e["service"]), s.at(e["start"], "start"), s.at(e["end"], "end"))
        for e in s.expected.get("incidents") or []
    ]


def _distance(i: dict[str, Any], start: datetime, end: datetime) -> float:
    s, e = parse_at(i.get("start")), parse_at(i.get("end"))
    if s is None or e is None:
        return float("inf")
    return abs((s - start).total_seconds()) + abs((e - end).total_seconds())


def _assign(s: Scenario, incidents: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Expected incident n -> the actual one it is judged against, one to one.

    Closest pairs (same service, by start and end distance) are taken first, so one actual
    incident that swallowed two expected ones matches only one of them.
    """
    pairs = sorted(
        (_distance(i, start, end), n, k)
        for n, (service, start, end) in enumerate(_expected_spans(s))
        for k, i in enumerate(incidents)
        if i.get("service") == service
    )
    taken: dict[int, dict[str, Any]] = {}
    used: set[int] = set()
    for _d, n, k in pairs:
        if n not in taken and k not in used:
            taken[n] = incidents[k]
            used.add(k)
    return taken


def _brief(i: dict[str, Any] | None) -> Any:
    if i is None:
        return "no incident of that service left to match"
    return {"start": i.get("start"), "end": i.get("end"), "id": i.get("id")}


def incident_facts(s: Scenario, n: int, e: dict[str, Any]) -> list[Fact]:
    service = str(e["service"])
    start, end = (
        s.at(e["start"], f"expected.incidents[{n}].start"),
        s.at(e["end"], f"expected.incidents[{n}].end"),
    )
    tag = f"incident[{n}] {service}"

    def pick(analysis: dict[str, Any]) -> Any:
        return _assign(s, analysis.get("incidents") or []).get(n)

    def bounds(which: str, want: datetime) -> Judge:
        def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            i = pick(a)
            got = parse_at(i.get(which)) if i else None
            return near(got, want), (i.get(which) if i else _brief(i))

        return judge

    facts = [
        Fact(f"{tag} start", start.isoformat(), bounds("start", start)),
        Fact(f"{tag} end", end.isoformat(), bounds("end", end)),
    ]
    if "cause" in e:
        raw = e["cause"]
        answers = [str(c) for c in raw] if isinstance(raw, list) else [str(raw)]

        def cause(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            i = pick(a)
            root = (i or {}).get("root_cause") or {}
            text = str(root.get("text") or "")
            named = root.get("kind") != "signature"
            # a signature cause whose line holds an exception is named by that line too
            exception = str(root.get("exception") or "")
            ok = any(
                root.get("id") == w or (named and w in text) or (bool(exception) and w in exception)
                for w in answers
            )
            return ok, {"id": root.get("id"), "text": text[:160]} if i else _brief(i)

        facts.append(Fact(f"{tag} cause", " or ".join(answers), cause))
    if "cause_mentions" in e:
        words = str(e["cause_mentions"])

        def mentions(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            i = pick(a)
            root = (i or {}).get("root_cause") or {}
            said = f"{root.get('text') or ''} | {(i or {}).get('cause') or ''}"
            return words in said, said[:240] if i else _brief(i)

        facts.append(Fact(f"{tag} cause names", words, mentions))
    if "issues" in e:
        want_issues = sorted(str(x) for x in e["issues"] or [])

        def issues(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            i = pick(a)
            got = sorted(i.get("issues") or []) if i else _brief(i)
            return got == want_issues, got

        facts.append(Fact(f"{tag} issues", want_issues, issues))
    if "failed_requests" in e:
        want_failed = int(e["failed_requests"])

        def failed(a: dict[str, Any], r: dict[str, Any]) -> tuple[bool, Any]:
            i = pick(a)
            if i is None:
                return False, _brief(i)
            same = [x for x in r.get("incidents") or [] if x.get("id") == i.get("id")]
            impact = ((same[0].get("postmortem") or {}).get("impact") or {}) if same else {}
            got = impact.get("failed_requests")
            return got == want_failed, got

        facts.append(Fact(f"{tag} failed_requests", want_failed, failed))
    return facts


def count_fact(service: str, want: int) -> Fact:
    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        mine = [i for i in a.get("incidents") or [] if i.get("service") == service]
        return len(mine) == want, [f"{i.get('start')}..{i.get('end')}" for i in mine]

    return Fact(f"incidents on {service}", want, judge)
