"""Compare a scenario's expected answer with what the analysis said, fact by fact.

Expected facts (under ``expected:`` in the scenario file):
  - ``incidents``: every incident of the listed services: service, start and end (within 60 s),
    ``cause`` (the root cause's signature id, or text its name must contain; a list: any of
    them), ``issues`` (the
    incident's tracked issues, exactly), ``failed_requests`` (the report's incident impact).
    ``cause_mentions``: words the root cause or the incident's cause sentence must contain
    (e.g. the missing module's name). The number of incidents per service is a fact too: a
    quiet service must have none.
  - ``attribution``: for a symptom signature on a service at a time, the tracked issues its
    cause belongs to (``[]``: none; it only looks like one).
  - ``issues``: an issue id -> its status, or ``{status, evidence, data_gaps, basis_contains}``
    (``evidence``: the number of lines in the window that count for it; ``data_gaps``: sources
    whose gaps the issue must name).
  - ``checks``: a check id -> pass / fail / no_data, or ``{status, services: {svc: {requests,
    5xx}}}`` for the 5xx-ratio numbers.
  - ``impact``: the window's ``requests`` (null: no complete denominator, so none may be
    given) and ``failed_requests`` (report.json ``impact``), words the ``source`` they came
    from must contain, and words the ``denominator`` (why there is no ratio) must contain.
  - ``data_gaps``: sources that must be reported as incomplete (``[]``: none).
  - ``deploys``: rollouts (service, revision, ``at`` within 60 s) the analysis must list.
  - ``signals``: signal ids that must be present (context, whatever the incidents say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.incidents import load_registry
from forensics.scenarios.model import Scenario
from forensics.timeutil import parse_time

__all__ = ["Fact", "FactResult", "ScenarioResult", "compare", "expected_facts"]

TOLERANCE = timedelta(minutes=1)
Judge = Callable[[dict[str, Any], dict[str, Any]], tuple[bool, Any]]


@dataclass(frozen=True)
class Fact:
    """One expected fact: a stable id, the expected value, and how to read the actual one."""

    id: str
    expected: Any
    judge: Judge


@dataclass(frozen=True)
class FactResult:
    """One fact checked: did the analysis say it, and what did it say instead."""

    id: str
    ok: bool
    expected: Any
    actual: Any


@dataclass(frozen=True)
class ScenarioResult:
    """Every fact of one scenario."""

    name: str
    facts: list[FactResult] = field(default_factory=list)
    entries: int = 0

    @property
    def matched(self) -> list[FactResult]:
        return [f for f in self.facts if f.ok]

    @property
    def mismatched(self) -> list[FactResult]:
        return [f for f in self.facts if not f.ok]

    def fact(self, fact_id: str) -> FactResult:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(f"{self.name}: no fact {fact_id!r}")


def _t(value: Any) -> datetime | None:
    return parse_time(str(value)) if value else None


def _near(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs(a - b) <= TOLERANCE


def _expected_spans(s: Scenario) -> list[tuple[str, datetime, datetime]]:
    return [
        (str(e["service"]), s.at(e["start"], "start"), s.at(e["end"], "end"))
        for e in s.expected.get("incidents") or []
    ]


def _distance(i: dict[str, Any], start: datetime, end: datetime) -> float:
    s, e = _t(i.get("start")), _t(i.get("end"))
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


def _incident_facts(s: Scenario, n: int, e: dict[str, Any]) -> list[Fact]:
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
            got = _t(i.get(which)) if i else None
            return _near(got, want), (i.get(which) if i else _brief(i))

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


def _count_fact(service: str, want: int) -> Fact:
    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        mine = [i for i in a.get("incidents") or [] if i.get("service") == service]
        return len(mine) == want, [f"{i.get('start')}..{i.get('end')}" for i in mine]

    return Fact(f"incidents on {service}", want, judge)


def _attribution_fact(s: Scenario, n: int, e: dict[str, Any], registry: Any) -> Fact:
    service, symptom = str(e["service"]), str(e["symptom"])
    at = s.at(e["at"], f"expected.attribution[{n}].at")
    want = sorted(str(x) for x in e.get("issues") or [])

    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        around = [
            i
            for i in a.get("incidents") or []
            if i.get("service") == service
            and (_t(i.get("start")) or at) - TOLERANCE <= at <= (_t(i.get("end")) or at) + TOLERANCE
        ]
        causes: dict[str, int] = {}
        for i in around:
            for cause, count in ((i.get("attribution") or {}).get(symptom) or {}).items():
                causes[cause] = causes.get(cause, 0) + int(count)
        if not causes:
            return False, f"no {symptom} attributed in an incident of {service} at that time"
        top = max(causes, key=lambda c: causes[c])
        got = sorted(registry.issues_of_cause(top)) if "/" in top else []
        return got == want, {"cause": top, "issues": got, "all": causes}

    return Fact(f"attribution[{n}] {service} {symptom}", want, judge)


def _issue_fact(issue: str, spec: Any) -> list[Fact]:
    spec = spec if isinstance(spec, dict) else {"status": spec}
    want = str(spec["status"])

    def row(a: dict[str, Any]) -> dict[str, Any]:
        return next((i for i in a.get("issues") or [] if i.get("id") == issue), {})

    def status(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        got = row(a)
        return got.get("status") == want, {"status": got.get("status"), "basis": got.get("basis")}

    facts = [Fact(f"issue {issue} status", want, status)]
    if "evidence" in spec:
        lines = int(spec["evidence"])

        def evidence(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            got = row(a)
            return got.get("evidence_in_window") == lines, got.get("evidence")

        facts.append(Fact(f"issue {issue} evidence lines", lines, evidence))
    for gap in spec.get("data_gaps") or []:

        def gap_fact(a: dict[str, Any], _r: dict[str, Any], g: str = str(gap)) -> tuple[bool, Any]:
            got = [str(x.get("source")) for x in row(a).get("data_gaps") or []]
            return any(g in x for x in got), got

        facts.append(Fact(f"issue {issue} data gap {gap}", str(gap), gap_fact))
    if "basis_contains" in spec:
        words = str(spec["basis_contains"])

        def basis(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            got = str(row(a).get("basis") or "")
            return words in got, got

        facts.append(Fact(f"issue {issue} basis", words, basis))
    return facts


def _check_facts(check: str, spec: Any) -> list[Fact]:
    spec = spec if isinstance(spec, dict) else {"status": spec}

    def row(a: dict[str, Any]) -> dict[str, Any]:
        return next((c for c in a.get("checks") or [] if c.get("id") == check), {})

    facts = []
    if "status" in spec:
        want = str(spec["status"])

        def status(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
            got = row(a)
            return got.get("status") == want, {
                "status": got.get("status"),
                "measured": got.get("measured"),
            }

        facts.append(Fact(f"check {check}", want, status))
    for service, numbers in (spec.get("services") or {}).items():
        want_numbers = {k: int(v) for k, v in numbers.items()}

        def per_service(a: dict[str, Any], _r: dict[str, Any], svc: str = service,
                        want_n: dict[str, int] = want_numbers) -> tuple[bool, Any]:  # fmt: skip
            details: list[dict[str, Any]] = row(a).get("details") or []
            detail = next((d for d in details if d.get("service") == svc), {})
            got = {k: detail.get(k) for k in want_n}
            return got == want_n, got | {"source": detail.get("source")}

        facts.append(Fact(f"check {check} {service}", want_numbers, per_service))
    return facts


def _impact_facts(spec: dict[str, Any]) -> list[Fact]:
    facts = []
    for key in ("requests", "failed_requests"):
        if key in spec:
            # null: no complete denominator, so no request count may be given
            want = None if spec[key] is None else int(spec[key])

            def judge(
                _a: dict[str, Any], r: dict[str, Any], k: str = key, w: int | None = want
            ) -> tuple[bool, Any]:
                got = (r.get("impact") or {}).get(k)
                return got == w, got

            facts.append(Fact(f"impact {key}", want, judge))
    for key in ("source", "denominator"):
        if key in spec:
            words = str(spec[key])

            def said(
                _a: dict[str, Any], r: dict[str, Any], k: str = key, w: str = words
            ) -> tuple[bool, Any]:
                got = str((r.get("impact") or {}).get(k))
                return w in got, got

            facts.append(Fact(f"impact {key}", words, said))
    return facts


def _gaps_fact(want: list[str]) -> Fact:
    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        got = sorted({str(g.get("source")) for g in a.get("data_gaps") or []})
        ok = all(any(w in g for g in got) for w in want) and (bool(want) or not got)
        return ok, got

    return Fact("data gaps", sorted(want), judge)


def _deploy_fact(s: Scenario, n: int, e: dict[str, Any]) -> Fact:
    service, revision = str(e["service"]), str(e["revision"])
    at = s.at(e["at"], f"expected.deploys[{n}].at")

    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        mine = [d for d in a.get("deploys") or [] if d.get("service") == service]
        hits = [d for d in mine if d.get("revision") == revision and _near(_t(d.get("time")), at)]
        return bool(hits), [(d.get("time"), d.get("kind"), d.get("revision")) for d in mine]

    return Fact(f"deploy[{n}] {service} {revision}", at.isoformat(), judge)


def _signal_fact(signal: str) -> Fact:
    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        got = sorted({str(x.get("signal")) for x in a.get("signals") or []})
        return signal in got, got

    return Fact(f"signal {signal}", signal, judge)


def expected_facts(s: Scenario, registry_file: Any = None) -> list[Fact]:
    """Every expected fact of ``s``, in the order of the file."""
    e = s.expected
    registry = load_registry(registry_file)
    facts: list[Fact] = []
    incidents = list(e.get("incidents") or [])
    for service in s.services:
        facts.append(
            _count_fact(service.name, sum(1 for i in incidents if i["service"] == service.name))
        )
    for n, item in enumerate(incidents):
        facts += _incident_facts(s, n, item)
    for n, item in enumerate(e.get("attribution") or []):
        facts.append(_attribution_fact(s, n, item, registry))
    for issue, spec in (e.get("issues") or {}).items():
        facts += _issue_fact(str(issue), spec)
    for check, spec in (e.get("checks") or {}).items():
        facts += _check_facts(str(check), spec)
    facts += _impact_facts(dict(e.get("impact") or {}))
    if "data_gaps" in e:
        facts.append(_gaps_fact([str(g) for g in e["data_gaps"] or []]))
    for n, item in enumerate(e.get("deploys") or []):
        facts.append(_deploy_fact(s, n, item))
    for signal in e.get("signals") or []:
        facts.append(_signal_fact(str(signal)))
    return facts


def compare(
    s: Scenario, analysis: dict[str, Any], report: dict[str, Any], registry_file: Any = None
) -> ScenarioResult:
    """Judge every expected fact of ``s`` against the analysis and report JSON."""
    results = []
    for fact in expected_facts(s, registry_file):
        try:
            ok, actual = fact.judge(analysis, report)
        except (KeyError, TypeError, ValueError, AttributeError) as err:  # a changed shape
            ok, actual = False, f"could not read the output: {type(err).__name__}: {err}"
        results.append(FactResult(fact.id, ok, fact.expected, actual))
    return ScenarioResult(s.name, results)
