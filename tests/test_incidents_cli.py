"""`forensics analyze`, `forensics incidents` and `forensics issues`: output, JSON shape, exits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.paths import patterns_dir
from forensics.store import open_store
from tests.incidents_support import DEMO_END, demo_store_copy

DEMO_ISSUES = str(patterns_dir() / "issues.demo.yaml")
UNTIL = DEMO_END.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(demo_store_copy(tmp_path_factory.mktemp("cli")))


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, [*args], catch_exceptions=False)


def run_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = invoke(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


COMMON = ("--until", UNTIL, "--issues-file", DEMO_ISSUES)


def test_analyze_prints_the_contradiction_headline_first(runner: CliRunner, demo_db: str) -> None:
    result = invoke(runner, "analyze", "--db", demo_db, *COMMON)
    assert result.exit_code == 0, result.output
    out = result.output
    headline = out.index("#1278 is claimed resolved, the logs say ACTIVE")
    assert headline < out.index("Tracked issues") < out.index("Incidents")
    assert out.index("Incidents") < out.index("Checks") < out.index("Volume per hour")
    assert "ModuleNotFoundError" in out  # the missing-module incident's cause


def test_analyze_json_has_the_stable_shape(runner: CliRunner, demo_db: str) -> None:
    data = run_json(runner, "analyze", "--db", demo_db, *COMMON)
    assert {"window", "issues", "incidents", "deploys", "drift", "checks"} <= set(data)
    assert set(data["window"]) == {"since", "until", "hours"}
    issue_keys = {
        "id",
        "title",
        "url",
        "status",
        "claimed_status",
        "contradiction",
        "evidence",
        "first_seen",
        "last_seen",
        "first_seen_revision",
        "last_seen_revision",
        "basis",
    }
    for issue in data["issues"]:
        assert issue_keys <= set(issue)
        assert issue["status"] in {"ACTIVE", "RESOLVED", "REGRESSED", "QUIET", "NO_DATA"}
        assert all(isinstance(n, int) for n in issue["evidence"].values())
        assert isinstance(issue["basis"], str) and issue["basis"]
    flags = [i["contradiction"] for i in data["issues"]]
    assert flags == sorted(flags, reverse=True)  # contradictions first
    incident_keys = {
        "id",
        "start",
        "end",
        "peak",
        "service",
        "chain",
        "issues",
        "signatures",
        "revisions",
        "instances",
        "evidence",
        "cause",
    }
    for incident in data["incidents"]:
        assert incident_keys <= set(incident)
        for line in incident["evidence"]:
            assert {"insert_id", "timestamp", "revision", "signature", "message"} <= set(line)
    for check in data["checks"]:
        assert check["status"] in {"pass", "fail", "no_data"}


def test_build_analysis_is_json_ready_without_help(demo_db: str, tmp_path: Path) -> None:
    from forensics.incidents import build_analysis, load_registry
    from forensics.timeutil import window_ending

    with open_store(demo_db) as store:
        result = build_analysis(
            store, window_ending(24, UNTIL), registry=load_registry(DEMO_ISSUES)
        )
    assert json.loads(json.dumps(result)) == result  # no datetimes, frames or sets left


def test_incidents_command_filters_and_details(runner: CliRunner, demo_db: str) -> None:
    data = run_json(runner, "incidents", "--db", demo_db, "--issue", "#1278", *COMMON)
    assert len(data["incidents"]) == 1 and "#1278" in data["incidents"][0]["issues"]
    none = run_json(runner, "incidents", "--db", demo_db, "--service", "nope", *COMMON)
    assert none["incidents"] == []
    text = invoke(runner, "incidents", "--db", demo_db, "--issue", "#131", *COMMON).output
    assert "cloudrun/memory-limit-exceeded → cloudrun/container-exit-nonzero" in text
    assert "3 of 3 instances in order" in text
    assert "Evidence" in text


def test_issues_command_and_fail_on_contradiction(runner: CliRunner, demo_db: str) -> None:
    data = run_json(runner, "issues", "--db", demo_db, "--issue", "#395", *COMMON)
    assert [i["id"] for i in data["issues"]] == ["#395"]
    assert data["issues"][0]["status"] == "RESOLVED"
    text = invoke(runner, "issues", "--db", demo_db, *COMMON)
    assert text.exit_code == 0
    assert (
        "CONTRADICTION" in text.output
        and "fix: rollout of netra-auth-service-00088-w5t" in text.output
    )
    failing = invoke(runner, "issues", "--db", demo_db, "--fail-on-contradiction", *COMMON)
    assert failing.exit_code == 1
    calm = invoke(
        runner, "issues", "--db", demo_db, "--issue", "#395", "--fail-on-contradiction", *COMMON
    )
    assert calm.exit_code == 0


def test_bad_issue_and_bad_registry_are_usage_errors(
    runner: CliRunner, demo_db: str, tmp_path: Path
) -> None:
    unknown = runner.invoke(app, ["issues", "--db", demo_db, "--issue", "#9999", *COMMON])
    assert unknown.exit_code == 2 and "no tracked issue '#9999'" in unknown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("issues:\n  - id: '#1278'\n    claimed_status: maybe\n")
    broken = runner.invoke(
        app, ["analyze", "--db", demo_db, "--until", UNTIL, "--issues-file", str(bad)]
    )
    assert broken.exit_code == 2
    assert str(bad) in broken.output and "issues[#1278].claimed_status" in broken.output


def test_log_text_is_never_read_as_markup(runner: CliRunner, tmp_path: Path) -> None:
    """A message with rich markup in it prints as itself."""
    from forensics.ingest import ingest_texts

    line = {
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "timestamp": "2025-09-16T01:00:00Z",
        "insertId": "x1",
        "severity": "ERROR",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": "svc", "revision_name": "svc-00001-abc"},
        },
        "labels": {"instanceId": "i1"},
        "textPayload": "ValueError: [bold red]boom[/] [/nonsense] Database initialization "
        "timeout after 9.0s",
    }
    db = tmp_path / "m.duckdb"
    with open_store(db) as store:
        ingest_texts(store, [json.dumps(line)], "t")
    result = invoke(runner, "incidents", "--db", str(db), "--until", "2025-09-16T02:00:00Z")
    assert result.exit_code == 0, result.output
    assert "[bold red]boom[/] [/nonsense]" in result.output
