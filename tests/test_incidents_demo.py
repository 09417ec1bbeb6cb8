"""Incidents on the demo day against its planted ground truth: which, when, chains, causes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from forensics.demo import PlantedIncident
from forensics.incidents import build_analysis
from forensics.store import open_store
from tests.incidents_support import DEMO_WINDOW, demo_registry, demo_store_copy, demo_truth

TRUTH = demo_truth()
SLACK = timedelta(minutes=2)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = demo_store_copy(tmp_path_factory.mktemp("demo"))
    with open_store(db) as store:
        return build_analysis(store, DEMO_WINDOW, registry=demo_registry())


def matching(result: dict[str, Any], planted: PlantedIncident) -> list[dict[str, Any]]:
    return [
        i
        for i in result["incidents"]
        if i["service"] == planted.service
        and when(i["start"]) < planted.end + SLACK
        and when(i["end"]) > planted.start - SLACK
    ]


def is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def test_one_incident_per_planted_incident(result) -> None:
    assert len(result["incidents"]) == len(TRUTH.incidents)
    for planted in TRUTH.incidents:
        found = matching(result, planted)
        assert len(found) == 1, planted.key
        incident = found[0]
        assert planted.start - SLACK <= when(incident["start"]) <= planted.end
        assert when(incident["end"]) <= planted.end + SLACK
        assert planted.start <= when(incident["peak"]) <= planted.end + SLACK


@pytest.mark.parametrize("planted", TRUTH.incidents, ids=lambda p: p.key)
def test_chain_issue_revision_and_instances(result, planted: PlantedIncident) -> None:
    (incident,) = matching(result, planted)
    assert is_subsequence(planted.chain, incident["chain"]), (planted.chain, incident["chain"])
    if planted.issue:
        assert planted.issue in incident["issues"]
    else:
        assert incident["issues"] == []
    assert planted.revision in incident["revisions"]
    assert set(planted.instance_ids) <= set(incident["instances"])
    # every link seen on one instance is in cause-before-effect order there
    for link in incident["links"]:
        assert link["in_order"] == link["instances"], link
    for line in incident["evidence"]:
        assert line["insert_id"] and line["message"] and line["signature"]


def test_1278_cascade_chain_is_checked_on_every_instance(result) -> None:
    planted = TRUTH.incident("issue-1278-cascade")
    (incident,) = matching(result, planted)
    assert incident["chain"] == planted.chain
    for link in incident["links"][1:]:  # the first link starts on the Cloud SQL side
        assert link["instances"] == len(planted.instance_ids)
    assert incident["related_services"] == ["netra-staging:staging-shared-postgres"]
    assert incident["root_cause"]["id"].startswith("cloudsql/")
    assert "#1278" in incident["cause"]
    # every exit 3 and 503 of the cascade follows a database failure on its own instance
    for symptom in ("startup/exit-code-3", "cloudrun/http-503"):
        causes = incident["attribution"][symptom]
        assert set(causes) <= {"cloudsql/too-many-clients", "cloudsql/socket-failure"}
        assert sum(causes.values()) == incident["signatures"][symptom]


def test_missing_module_crash_loop_is_no_issue(result) -> None:
    planted = TRUTH.incident("missing-module-crashloop")
    (incident,) = matching(result, planted)
    assert incident["issues"] == []
    root = incident["root_cause"]
    # the catalog's startup/module-not-found names it, else the error line itself does
    assert root["id"] in ("startup/module-not-found", "error:ModuleNotFoundError")
    assert root["issues"] == []
    named = root.get("exception") or root["text"]
    assert named.startswith("ModuleNotFoundError: No module named 'netra_backend.app.services")
    assert "so not #1278" in incident["cause"]
    exits = incident["attribution"]["startup/exit-code-3"]
    assert exits == {root["id"]: incident["signatures"]["startup/exit-code-3"]}


def test_incident_ids_are_listed_on_their_issues(result) -> None:
    by_id = {i["id"]: i for i in result["incidents"]}
    for status in result["issues"]:
        for incident_id in status["incidents"]:
            assert status["id"] in by_id[incident_id]["issues"]
    cascade = next(i for i in result["incidents"] if "#1278" in i["issues"])
    assert cascade["id"] in next(s for s in result["issues"] if s["id"] == "#1278")["incidents"]


def test_signals_join_the_incidents_they_explain(tmp_path: Path) -> None:
    """This test is about joining metric signals: it inserts the rows a collector would write."""
    cascade = TRUTH.incident("issue-1278-cascade")
    memory = TRUTH.incident("issue-131-memory")
    quiet = DEMO_WINDOW.since + timedelta(hours=2)
    rows = [
        (
            "capacity/cloudsql-connections-high",
            "netra-staging:staging-shared-postgres",
            "cloudsql_database",
            cascade.start - timedelta(minutes=2),
            cascade.end,
            97.0,
        ),
        (
            "capacity/run-memory-high",
            "netra-backend-staging",
            "cloud_run_revision",
            memory.start - timedelta(minutes=5),
            memory.start + timedelta(minutes=10),
            0.99,
        ),
        (
            "capacity/vpc-connector-cpu-saturated",
            "staging-connector",
            "vpc_access_connector",
            quiet,
            quiet + timedelta(minutes=10),
            0.97,
        ),
    ]
    db = demo_store_copy(tmp_path)
    with open_store(db) as store:
        for signal, service, resource, start, end, peak in rows:
            store.conn.execute(
                "INSERT INTO signals VALUES (?, ?, ?, 'metric', ?, ?, ?, 0.8, '{}')",
                [signal, service, resource, start, end, peak],
            )
        result = build_analysis(store, DEMO_WINDOW, registry=demo_registry())
    (db_incident,) = matching(result, cascade)
    assert db_incident["chain"][0] == "capacity/cloudsql-connections-high"
    assert [s["signal"] for s in db_incident["signals"]] == ["capacity/cloudsql-connections-high"]
    assert "after capacity/cloudsql-connections-high" in db_incident["cause"]
    (mem_incident,) = matching(result, memory)
    assert mem_incident["chain"][0] == "capacity/run-memory-high"
    alone = [i for i in result["incidents"] if i["service"] == "staging-connector"]
    assert len(alone) == 1 and alone[0]["chain"] == ["capacity/vpc-connector-cpu-saturated"]
    assert alone[0]["issues"] == ["#1278"]
    status = next(i for i in result["issues"] if i["id"] == "#1278")
    assert status["evidence"]["capacity/cloudsql-connections-high"] == 1
    assert (
        next(i for i in result["issues"] if i["id"] == "#131")["evidence"][
            "capacity/run-memory-high"
        ]
        == 1
    )
