"""Real staging entries (cut from shared/fixtures/real-staging): causes and claims on real logs.

- real_missing_module_2025-09-16.jsonl: two instances of netra-backend-staging-00742-b95 that
  crash-looped on a missing Python module: worker exit 3, `Container called exit(3).`, 503s.
- real_auth_db_timeouts.jsonl: netra-auth-service's DB validation timeouts (2025-08-19 and
  2025-09-16, the day after #1263 was reported resolved) and the 503s around them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from forensics.incidents import build_analysis, load_registry
from forensics.ingest import ingest_files
from forensics.store import Store
from forensics.timeutil import Window
from tests.incidents_support import FIXTURES

MISSING = FIXTURES / "incidents" / "real_missing_module_2025-09-16.jsonl"
AUTH_DB = FIXTURES / "incidents" / "real_auth_db_timeouts.jsonl"
SEPT_16 = Window(datetime(2025, 9, 16, tzinfo=UTC), datetime(2025, 9, 17, tzinfo=UTC))


def status(result: dict[str, Any], issue_id: str) -> dict[str, Any]:
    return next(i for i in result["issues"] if i["id"] == issue_id)


def test_real_missing_module_exit_3_is_not_1278(store: Store) -> None:
    ingest_files(store, [MISSING])
    # Claim #1278 fixed the day before: if exit 3 counted as #1278, this would be REGRESSED.
    base = load_registry(None)
    claimed = replace(base.get("#1278"), claimed_resolved_at=datetime(2025, 9, 15, tzinfo=UTC))
    registry = replace(base, issues=tuple(claimed if i.id == "#1278" else i for i in base.issues))
    result = build_analysis(store, SEPT_16, registry=registry)
    (incident,) = result["incidents"]
    assert incident["service"] == "netra-backend-staging"
    assert incident["issues"] == []
    assert incident["revisions"] == ["netra-backend-staging-00742-b95"]
    assert len(incident["instances"]) == 2
    root = incident["root_cause"]
    # the cause first (when a signature names it), then exit 3, then the 503s
    expected = ["startup/exit-code-3", "cloudrun/http-503"]
    if root["id"] in incident["chain"]:
        expected.insert(0, root["id"])
    assert incident["chain"][: len(expected)] == expected
    assert root["id"] in ("startup/module-not-found", "error:ModuleNotFoundError")
    named = root.get("exception") or root["text"]
    assert "No module named 'netra_backend.app.services.monitoring'" in named
    causes = incident["attribution"]
    assert set(causes["startup/exit-code-3"]) == {root["id"]}
    assert set(causes["cloudrun/http-503"]) == {root["id"]}
    s1278 = status(result, "#1278")
    assert s1278["evidence"] == {} and s1278["status"] != "REGRESSED"
    assert s1278["contradiction"] is False


def test_real_auth_db_timeouts_contradict_1263s_claim(store: Store) -> None:
    ingest_files(store, [AUTH_DB])
    window = Window(datetime(2025, 8, 19, tzinfo=UTC), datetime(2025, 9, 17, tzinfo=UTC))
    result = build_analysis(store, window, registry=load_registry(None))
    headline = result["issues"][0]
    assert headline["id"] == "#1263" and headline["status"] == "REGRESSED"
    assert headline["claimed_status"] == "resolved" and headline["contradiction"]
    lines = sum(1 for line in AUTH_DB.read_text().splitlines() if "validation timeout" in line)
    assert headline["after_fix"]["evidence"] == lines  # every 2025-09-16 timeout line
    assert headline["first_seen"].startswith("2025-08-19")
    assert f"{lines:,} evidence lines since the fix" in headline["basis"]
    incidents = [i for i in result["incidents"] if i["service"] == "netra-auth-service"]
    assert [i["start"][:10] for i in incidents] == ["2025-08-19", "2025-09-16", "2025-09-16"]
    for incident in incidents:
        assert incident["issues"] == ["#1278", "#1263"]
        assert incident["chain"][0] == "startup/db-init-timeout"
    # the 2025-08-19 exit 3 follows the DB init failure on the same service
    assert incident_causes(incidents[0]) == {"startup/db-init-timeout"}
    check = next(c for c in result["checks"] if c["id"] == "db-connection")
    assert check["status"] == "fail" and "longest 15.0 s" in check["measured"]


def incident_causes(incident: dict[str, Any]) -> set[str]:
    return {c for causes in incident["attribution"].values() for c in causes}


DEPLOYS = FIXTURES / "incidents" / "real_deploys.jsonl"


def _env_values(entry: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("env"), list):
                found.update(str(e["value"]) for e in node["env"] if "value" in e)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(entry)
    return found


def test_real_deploys_pairing_and_drift(store: Store) -> None:
    """2025-08-25: the call is logged 6 s after its Revision went Ready; 2025-09-16: calls with
    no Ready event, one of which the next revision label (00740-47l) names."""
    ingest_files(store, [DEPLOYS])
    window = Window(datetime(2025, 8, 25, tzinfo=UTC), datetime(2025, 9, 17, tzinfo=UTC))
    result = build_analysis(store, window, registry=load_registry(None))
    markers = result["deploys"]
    first = markers[0]
    assert (first["kind"], first["revision"], first["ready"]) == (
        "revision",
        "netra-backend-staging-00139-mqn",
        True,
    )
    assert first["time"] > first["ready_at"]  # paired with the Ready event just before it
    calls = [m for m in markers if m["time"].startswith("2025-09-16")]
    assert [m["kind"] for m in calls] == ["call", "call"]
    assert [m["revision"] for m in calls] == [None, "netra-backend-staging-00740-47l"]
    (drift, *_) = result["drift"]
    changed = {c["field"]: c for c in drift["changes"]}
    assert (changed["memory"]["from"], changed["memory"]["to"]) == ("1Gi", "4Gi")
    assert (changed["cpu"]["from"], changed["cpu"]["to"]) == ("2", "4")
    assert "netra-staging-postgres" in changed["cloudsql_instances"]["to"]
    assert "startup_cpu_boost" not in changed  # "True" and "true" are the same setting
    assert next(i for i in result["issues"] if i["id"] == "#367")["status"] == "ACTIVE"
    text = json.dumps(result)
    leaked = [v for e in map(json.loads, DEPLOYS.read_text().splitlines()) for v in _env_values(e)]
    assert leaked and not [v for v in leaked if len(v) >= 12 and v in text]
