"""The scenario suite: every expected fact of every scenario in tests/scenarios/ is one test.

Each scenario is rendered, loaded into a real DuckDB store (ingest of NDJSON exports, or the
collectors against the emulator on 127.0.0.1), analysed by the CLI, and compared fact by fact
with the answer written in the scenario file (see forensics/scenarios/check.py).

Facts the analysis gets wrong today because of the defects issue 10 is fixing are listed in
KNOWN_DEFECTS, in this one place, as strict xfails: when a fix lands, its facts pass, the strict
xfail turns into a failure, and the entry must be removed here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.errors import InputError
from forensics.scenarios import (
    ScenarioResult,
    expected_facts,
    load_scenario,
    run_scenario,
    scenario_paths,
)

SCENARIO_DIR = Path(__file__).parent / "scenarios"
SCENARIOS = {load_scenario(p).name: load_scenario(p) for p in scenario_paths(SCENARIO_DIR)}

# (scenario, fact id) -> the defect that makes the fact fail today; none is known now.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def _cases() -> list[object]:
    cases = []
    for name, scenario in SCENARIOS.items():
        for fact in expected_facts(scenario):
            reason = KNOWN_DEFECTS.get((name, fact.id))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(name, fact.id, id=f"{name}::{fact.id}", marks=marks))
    return cases


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScenarioResult]:
    """Each scenario run once per module (lazily), shared by its facts."""
    return {}


def _result(
    name: str, results: dict[str, ScenarioResult], tmp: pytest.TempPathFactory
) -> ScenarioResult:
    if name not in results:
        results[name] = run_scenario(SCENARIOS[name], tmp.mktemp(name))
    return results[name]


@pytest.mark.parametrize(("name", "fact_id"), _cases())
def test_fact(
    name: str,
    fact_id: str,
    results: dict[str, ScenarioResult],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    fact = _result(name, results, tmp_path_factory).fact(fact_id)
    assert fact.ok, (
        f"{name}: {fact_id}: expected {fact.expected!r}, the analysis said {fact.actual!r}"
    )


def test_suite_covers_the_cases_issue_10_names() -> None:
    assert len(SCENARIOS) >= 12
    for scenario in SCENARIOS.values():
        assert expected_facts(scenario), f"{scenario.path}: no expected facts"


def test_known_defects_name_existing_facts() -> None:
    """A stale entry (renamed scenario or fact) would silently stop guarding anything."""
    known = {(n, f.id) for n, s in SCENARIOS.items() for f in expected_facts(s)}
    assert set(KNOWN_DEFECTS) <= known, sorted(set(KNOWN_DEFECTS) - known)


def test_generator_is_not_the_demo() -> None:
    """The scenarios must be data the demo (which the analysis was tuned on) did not make."""
    package = Path(__file__).resolve().parents[1] / "forensics" / "scenarios"
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "forensics.demo" not in text and "from forensics import demo" not in text, path


def test_a_bad_scenario_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "window: {until: '2025-09-16T12:00:00Z'}\n"
        "services: {api: {revision: api-00001-abc}}\n"
        "failures: [{kind: crash-loop, cause: gremlins, service: api, start: end-1h}]\n"
        "expected: {}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"bad\.yaml: failures\[0\]\.cause"):
        load_scenario(bad)
