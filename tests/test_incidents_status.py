"""Issue status from evidence on the demo day, whose ground truth is known (forensics.demo)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.incidents import build_analysis, load_registry
from forensics.ingest import ingest_files
from forensics.store import open_store
from forensics.timeutil import Window
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging
from tests.incidents_support import DEMO_WINDOW, demo_registry, demo_store_copy, demo_truth


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store_copy(tmp_path_factory.mktemp("status"))


@pytest.fixture(scope="module")
def result(demo_db: Path) -> dict[str, Any]:
    with open_store(demo_db) as store:
        return build_analysis(store, DEMO_WINDOW, registry=demo_registry())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def issue(result: dict[str, Any], issue_id: str) -> dict[str, Any]:
    return next(i for i in result["issues"] if i["id"] == issue_id)


def test_395_resolved_by_the_auth_deploy_with_traffic_counted_after_it(result) -> None:
    truth = demo_truth()
    fix_deploy = next(d for d in truth.deploys if d.fixes == "#395")
    status = issue(result, "#395")
    assert status["status"] == "RESOLVED"
    assert status["contradiction"] is False
    fix_time = status["fix"]["time"]
    # the fix is the rollout of the planted deploy's revision, shortly after the call
    assert status["fix"]["revision"] == fix_deploy.new_revision
    assert fix_deploy.time <= when(fix_time) <= fix_deploy.time + timedelta(minutes=5)
    after = status["after_fix"]
    assert after["evidence"] == 0 and after["requests"] >= 1000
    assert f"{after['requests']:,} requests" in status["basis"]
    # the timeouts were real, just all before the fix
    planted = truth.incident("issue-395-auth-timeout")
    assert status["evidence"]["auth/timeout"] > 100
    assert planted.start <= when(status["first_seen"])
    assert when(status["last_seen"]) < when(fix_time)


def test_1278_active_and_its_contradiction_is_the_headline(result) -> None:
    first = result["issues"][0]
    assert first["id"] == "#1278"
    assert first["status"] == "ACTIVE" and first["claimed_status"] == "resolved"
    assert first["contradiction"] is True
    # exit 3 and 503 count for #1278 only after a database cause on the same instance
    planted = demo_truth().incident("issue-1278-cascade")
    assert first["evidence"]["startup/exit-code-3"] > 0
    assert first["evidence"]["startup/db-init-timeout"] == len(planted.instance_ids) * 2
    # the missing-module crash loop ends in exit 3 too, but is not counted for #1278
    assert when(first["first_seen"]) >= planted.start


def test_statuses_match_the_planted_story(result) -> None:
    statuses = {i["id"]: i["status"] for i in result["issues"]}
    assert statuses == {
        "#1278": "ACTIVE",
        "#1263": "ACTIVE",
        "#131": "ACTIVE",
        "#372": "ACTIVE",
        "#395": "RESOLVED",
        "#367": statuses["#367"],  # drift is checked in test_incidents_deploys
        "#1176": "ACTIVE",
    }
    contradicted = [i["id"] for i in result["issues"] if i["contradiction"]]
    assert contradicted == ["#1278", "#1263"]
    assert [i["id"] for i in result["issues"][:2]] == contradicted  # contradictions first
    meta = issue(result, "#1176")
    assert set(meta["evidence"]) == {"contradiction/#1278", "contradiction/#1263"}


def test_shipped_claims_make_fresh_evidence_a_regression(demo_db: Path) -> None:
    """With the real claims (#395 claimed fixed 2025-09-11), the demo's timeouts regress it."""
    with open_store(demo_db) as store:
        result = build_analysis(store, DEMO_WINDOW, registry=load_registry(None))
    status = issue(result, "#395")
    assert status["status"] == "REGRESSED" and status["contradiction"]
    assert status["fix"]["source"] == "claimed_resolved_at"
    assert status["after_fix"]["evidence"] == status["evidence"]["auth/timeout"]


def test_too_little_traffic_after_the_fix(demo_db: Path) -> None:
    """Too little traffic after the fix to call it resolved: the timeouts before the fix make
    #395 ACTIVE up to it (no contradiction: so says the claim); a window after its last
    evidence holds nothing at all, and that is QUIET."""
    base = demo_registry()
    strict = [
        replace(i, min_requests_after_fix=10**9, min_starts_after_fix=10**6)
        if i.id == "#395"
        else i
        for i in base.issues
    ]
    registry = replace(base, issues=tuple(strict))
    with open_store(demo_db) as store:
        result = build_analysis(store, DEMO_WINDOW, registry=registry)
        status = issue(result, "#395")
        assert status["status"] == "ACTIVE" and status["active_before_fix"]
        assert status["contradiction"] is False
        assert f"Fix claimed at {status['fix']['time']}" in status["basis"]
        assert f"evidence until {status['last_seen']}" in status["basis"]
        assert "too little to call it resolved" in status["basis"]
        later = Window(when(status["last_seen"]) + timedelta(minutes=1), DEMO_WINDOW.until)
        quiet = issue(build_analysis(store, later, registry=registry), "#395")
    assert quiet["status"] == "QUIET" and quiet["evidence"] == {}
    assert "too little to tell" in quiet["basis"]


def test_window_before_any_log_is_no_data(demo_db: Path) -> None:
    early = Window(DEMO_WINDOW.since - timedelta(days=3), DEMO_WINDOW.since - timedelta(days=2))
    with open_store(demo_db) as store:
        result = build_analysis(store, early, registry=demo_registry())
    assert {i["status"] for i in result["issues"]} == {"NO_DATA"}
    assert all(not i["contradiction"] for i in result["issues"])


def test_a_data_gap_covering_the_window_means_no_data(tmp_path: Path) -> None:
    db = demo_store_copy(tmp_path)
    with open_store(db) as store:
        # This test is about gaps: record the one a failed collection would leave.
        store.conn.execute(
            "INSERT INTO data_gaps VALUES ('logging:netra-staging:run', ?, ?, '429', ?)",
            [DEMO_WINDOW.since, DEMO_WINDOW.until, DEMO_WINDOW.until],
        )
        result = build_analysis(store, DEMO_WINDOW, registry=demo_registry())
    assert issue(result, "#395")["status"] == "NO_DATA"
    assert issue(result, "#395")["data_gaps"][0]["reason"] == "429"
    # #1278 still has Cloud SQL logs to go on
    assert issue(result, "#1278")["status"] == "ACTIVE"


def test_first_and_last_seen_name_the_entrys_own_place(demo_db: Path, result) -> None:
    """#1278's first evidence is a Cloud SQL line: it has no revision, so "first seen on" names
    the database, not some later Cloud Run revision; headline and detail agree on the last."""
    status = issue(result, "#1278")
    with open_store(demo_db) as store:
        first = store.conn.execute(
            "SELECT resource_type, revision, service FROM entries WHERE timestamp = $t",
            {"t": when(status["first_seen"])},
        ).fetchall()
    assert first and all(kind == "cloudsql_database" and not rev for kind, rev, _ in first)
    assert status["first_seen_revision"] is None
    assert status["first_seen_place"] == first[0][2]
    assert f"on {status['last_seen_place']}" in status["basis"]


@requires_real_staging
def test_a_window_that_ends_before_the_claimed_fix_is_no_contradiction(
    tmp_path: Path, runner: CliRunner
) -> None:
    """Real export, shipped claims: #1278 is claimed resolved at 2025-09-17T00:00Z and its
    2025-09-16 evidence is all before that. The day ending at the fix said "active until the
    fix, as claimed"; the same day ending an hour earlier said "claimed resolved, but no fix
    time or revision is given", a contradiction (exit 1 with --fail-on-contradiction), though
    the claim and the lines were the same. Any window that ends before a claimed fix holds only
    evidence from before it."""
    db = tmp_path / "real.duckdb"
    with open_store(db) as store:
        ingest_files(store, [REAL_STAGING_ENTRIES])
    registry = load_registry(None)
    claimed = {i.id: i.claimed_resolved_at for i in registry.issues}
    fix = claimed["#1278"]
    assert fix is not None
    at_fix = Window(fix - timedelta(hours=24), fix)
    before = Window(fix - timedelta(hours=25), fix - timedelta(hours=1))
    with open_store(db) as store:
        statuses = [
            issue(build_analysis(store, w, registry=registry), "#1278") for w in (at_fix, before)
        ]
    for status in statuses:
        assert status["evidence"] and when(status["last_seen"]) < before.until
        assert status["status"] == "ACTIVE" and status["active_before_fix"]
        assert status["contradiction"] is False
        assert status["fix"]["time"] == fix.isoformat().replace("+00:00", "Z")
        assert "no fix time or revision is given" not in status["basis"]
    assert statuses[0]["evidence"] == statuses[1]["evidence"]
    # #395's timeouts of 2025-09-07, days before its claimed fix (2025-09-11)
    fix_395 = claimed["#395"]
    assert fix_395 is not None
    day = datetime(2025, 9, 8, tzinfo=UTC)
    assert day < fix_395
    args = ["issues", "--hours", "24", "--until", day.isoformat(), "--db", str(db)]
    result = runner.invoke(app, [*args, "--issue", "#395", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)["issues"][0]
    assert status["evidence"].get("auth/timeout")
    assert status["status"] == "ACTIVE" and not status["contradiction"]
    assert str(fix_395.year) in status["basis"] and "after the window's end" in status["basis"]
    assert runner.invoke(app, [*args, "--fail-on-contradiction"]).exit_code == 0
