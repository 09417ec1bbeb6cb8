"""The real export's 2025-09-16 incident day (../shared/fixtures/real-staging), analysed as
`forensics analyze --hours 24 --until 2025-09-17T00:00:00Z` does: statuses, checks, causes and
per-issue counts, each checked against the entries themselves (read back from the store)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from forensics.analysis import analyze_window
from forensics.incidents import build_analysis, load_registry
from forensics.ingest import ingest_files
from forensics.report import build_report
from forensics.store import Store, open_store
from forensics.timeutil import Window
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging

pytestmark = requires_real_staging

DAY = Window(datetime(2025, 9, 16, tzinfo=UTC), datetime(2025, 9, 17, tzinfo=UTC))


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real-day") / "real.duckdb"
    with open_store(path) as store:
        ingest_files(store, [REAL_STAGING_ENTRIES])
    return path


@pytest.fixture(scope="module")
def real_store(real_db: Path) -> Any:
    with open_store(real_db) as store:
        yield store


@pytest.fixture(scope="module")
def result(real_store: Store) -> dict[str, Any]:
    return build_analysis(real_store, DAY, registry=load_registry(None))


def issue(result: dict[str, Any], issue_id: str) -> dict[str, Any]:
    return next(i for i in result["issues"] if i["id"] == issue_id)


def count(store: Store, sql: str) -> int:
    return int(store.scalar(sql, DAY.params()))


def test_evidence_before_the_claimed_fix_is_active_not_quiet(real_store, result) -> None:
    """#1278 is claimed fixed at 2025-09-17T00:00Z, the window's end; the day before it holds
    DB-init timeouts. That is the issue being active up to the fix, not silence."""
    timeouts = count(
        real_store,
        "SELECT count(*) FROM signature_matches WHERE signature = 'startup/db-init-timeout' "
        "AND is_primary AND timestamp >= $since AND timestamp < $until",
    )
    assert timeouts > 0
    s1278 = issue(result, "#1278")
    assert s1278["evidence"]["startup/db-init-timeout"] == timeouts
    assert s1278["status"] == "ACTIVE"
    assert s1278["active_before_fix"] is True
    assert s1278["contradiction"] is False  # the claim says it was fixed after these lines
    last = s1278["last_seen"]
    assert f"Fix claimed at {s1278['fix']['time']}" in s1278["basis"]
    assert f"evidence until {last}" in s1278["basis"]


def test_quiet_only_without_any_evidence(result) -> None:
    for status in result["issues"]:
        if status["status"] == "QUIET":
            assert status["evidence"] == {}, status["id"]


def test_causes_are_named_by_their_exception_line(real_store, result) -> None:
    """The crash loops' cause entries are long tracebacks (the exception line comes after 500
    characters of frames): the cause is that line, never "Traceback (most recent call last):"."""
    named = [
        i
        for i in result["incidents"]
        if i["root_cause"]["kind"] == "error" or i["root_cause"].get("exception")
    ]
    assert named
    for incident in named:
        root = incident["root_cause"]
        line = root.get("exception") or root["text"]
        assert not incident["cause"].startswith("Traceback"), incident["id"]
        assert line in incident["cause"]
        found = real_store.scalar(
            "SELECT count(*) FROM entries WHERE timestamp >= $since AND timestamp < $until "
            "AND contains(message, $line)",
            {**DAY.params(), "line": line},
        )
        assert found, line  # the line is in the logs as written
    crash = [
        i
        for i in named
        if "ModuleNotFoundError" in (i["root_cause"].get("exception") or "")
        or i["root_cause"]["id"] == "error:ModuleNotFoundError"
    ]
    assert len(crash) == 2
    for incident in crash:
        line = incident["root_cause"].get("exception") or incident["root_cause"]["text"]
        assert line.startswith("ModuleNotFoundError: No module named '")
        assert incident["issues"] == [] and "so not #1278" in incident["cause"]
    for incident in result["incidents"]:
        assert " 0 of " not in incident["cause"], incident["cause"]


@pytest.fixture(scope="module")
def report(real_store: Store) -> dict[str, Any]:
    analysis = analyze_window(real_store, DAY, registry=load_registry(None))
    return build_report(real_store, DAY, now=DAY.until, analysis=analysis)


def test_each_postmortem_counts_its_own_incident_only(report) -> None:
    """05:33-05:44: the auth service's DB-init timeouts and the backend's 503s are two
    incidents at the same time; each postmortem counts, starts and ends on its own lines (a
    503 of the other incident is not its last entry, its "resolution")."""
    incidents = report["incidents"]
    assert len({i["service"] for i in incidents}) > 1
    for incident in incidents:
        own = {incident["service"], *(incident.get("related_services") or [])}
        pm = incident["postmortem"]
        assert pm["impact"]["affected"]["matches"] == sum(incident["signatures"].values())
        for event in pm["events"]:
            if event["kind"] in ("first_signal", "resolution"):
                service = event["label"].rsplit(" on ", 1)[-1].rstrip(")")
                assert service in own, (incident["id"], event["label"])
        # the stated duration is the incident's own range
        assert pm["first_signal"] == incident["start"]
        if pm["resolved_at"]:
            assert pm["resolved_at"] >= incident["end"]


def test_per_issue_counts_follow_the_attribution(real_store, result, report) -> None:
    """startup/exit-code-3 on netra-backend-staging follows a ModuleNotFoundError: the signature
    table must not credit it to #1278 (its static symptom link), and no per-issue count may."""
    exits = count(
        real_store,
        "SELECT count(*) FROM signature_matches WHERE signature = 'startup/exit-code-3' "
        "AND is_primary AND service = 'netra-backend-staging' "
        "AND timestamp >= $since AND timestamp < $until",
    )
    assert exits > 0
    rows = {s["id"]: s for s in report["signatures"]}
    assert rows["startup/exit-code-3"]["count"] == exits
    assert "#1278" not in rows["startup/exit-code-3"]["issues"]
    assert "#1278" not in rows["cloudrun/http-503"]["issues"]
    assert rows["startup/db-init-timeout"]["issues"] == ["#1263", "#1278"]
    for status in result["issues"]:
        assert "startup/exit-code-3" not in status["evidence"], status["id"]
    terminal = analyze_window(real_store, DAY, registry=load_registry(None))["signatures"]
    for row in terminal.filter(terminal["signature"] == "startup/exit-code-3").to_dicts():
        assert "#1278" not in row["issues"]


def test_impact_names_no_denominator_for_the_filtered_export(report) -> None:
    """The real export holds failing request logs only (no 2xx/3xx at all): no incident and
    not the window may give a request count or a ratio, "0 requests" included."""
    for impact in [report["impact"], *(i["postmortem"]["impact"] for i in report["incidents"])]:
        assert impact["requests"] is None and impact["failed_ratio"] is None, impact
        assert "no complete denominator" in impact["source"] and impact["denominator"], impact


def test_no_denominator_is_said_once_not_as_a_source(report) -> None:
    """Without a complete request count the outputs say so; they never cite "from none: ..."
    as if "none" were where a ratio came from."""
    from forensics.report.render import render

    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert "no complete request count" in text
        assert "from none" not in text, fmt
    for incident in report["incidents"]:
        for event in incident["postmortem"]["events"]:
            assert "from none" not in event["label"], event
