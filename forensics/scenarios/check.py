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

from typing import Any

from forensics.incidents import load_registry
from forensics.scenarios.facts import TOLERANCE, Fact, FactResult, ScenarioResult, near, parse_at
from forensics.scenarios.incident_facts import count_fact, incident_facts
from forensics.scenarios.model import Scenario

__all__ = ["Fact", "FactResult", "ScenarioResult", "compare", "expected_facts"]


def _attribution_fact(s: Scenario, n: int, e: dict[str, Any], registry: Any) -> Fact:
    service, symptom = str(e["service"]), str(e["symptom"])
    at = s.at(e["at"], f"expected.attribution[{n}].at")
    want = sorted(str(x) for x in e.get("issues") or [])

    def judge(a: dict[str, Any], _r: dict[str, Any]) -> tuple[bool, Any]:
        around = [
            i
            for i in a.get("incidents") or []
            if i.get("service") == service
            and (parse_at(i.get("start")) or at) - TOLERANCE
            <= at
            <= (parse_at(i.get("end")) or at) + TOLERANCE
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
        hits = [
            d for d in mine if d.get("revision") == revision and near(parse_at(d.get("time")), at)
        ]
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
            count_fact(service.name, sum(1 for i in incidents if i["service"] == service.name))
        )
    for n, item in enumerate(incidents):
        facts += incident_facts(s, n, item)
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
