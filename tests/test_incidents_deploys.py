"""Deploy markers, drift between revisions (#367), first/last seen revision, and the checks."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl
import pytest

from forensics.incidents import build_analysis
from forensics.store import open_store
from tests.incidents_support import (
    DEMO_WINDOW,
    demo_entries,
    demo_registry,
    demo_store_copy,
    demo_truth,
)

TRUTH = demo_truth()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = demo_store_copy(tmp_path_factory.mktemp("deploys"))
    with open_store(db) as store:
        return build_analysis(store, DEMO_WINDOW, registry=demo_registry())


def iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_every_planted_deploy_has_its_marker(result) -> None:
    markers = {(m["service"], m["time"]): m for m in result["deploys"]}
    for planted in TRUTH.deploys:
        marker = markers[(planted.service, iso(planted.time))]
        assert marker["revision"] == planted.new_revision
        if planted.kind == "traffic":
            assert marker["kind"] == "traffic"
        elif planted.new_revision.endswith("00411-q7d"):  # never became ready
            assert marker["kind"] == "failed" and marker["ready"] is False
        else:
            assert marker["kind"] == "revision" and marker["ready"] is True
            assert planted.time < datetime_of(marker["ready_at"])
        if marker["previous_revision"] is not None:
            assert marker["previous_revision"] == planted.old_revision
    connector = [m for m in result["deploys"] if m["kind"] == "connector"]
    assert [m["service"] for m in connector] == ["staging-connector"]


def datetime_of(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_drift_between_consecutive_revisions(result) -> None:
    drift = {d["to_revision"]: d for d in result["drift"]}
    auth = {c["field"]: c for c in drift["netra-auth-service-00088-w5t"]["changes"]}
    assert auth["env"]["added"] == ["AUTH_WARMUP_ON_START"] and auth["env"]["removed"] == []
    assert (auth["min_instances"]["from"], auth["min_instances"]["to"]) == ("0", "1")
    assert (auth["cpu_throttling"]["from"], auth["cpu_throttling"]["to"]) == ("true", "false")
    assert auth["image"]["from"] != auth["image"]["to"]
    bad = {c["field"]: c for c in drift["netra-backend-staging-00411-q7d"]["changes"]}
    assert bad["env"]["added"] == ["GCP_ERROR_REPORTING_ENABLED", "GCP_ERROR_REPORTING_SERVICE"]
    assert bad["env"]["removed"] == ["SENTRY_DSN"]
    fix = drift["netra-backend-staging-00412-abc"]
    assert [c["field"] for c in fix["changes"]] == ["image"]
    assert drift["netra-backend-staging-00412-abc"]["from_revision"].endswith("00411-q7d")


def test_drift_is_367s_evidence_and_images_are_not(result) -> None:
    status = next(i for i in result["issues"] if i["id"] == "#367")
    assert status["status"] == "ACTIVE"
    assert "drift/image" not in status["evidence"]
    assert status["evidence"]["drift/env"] == 2  # auth added one name; backend changed its set
    assert status["evidence"]["drift/vpc"] == 3  # the connector update: machine type, min, max
    assert "configuration changes" in status["basis"]


def test_env_var_values_and_secret_refs_never_leave_the_store(result) -> None:
    text = json.dumps(result)
    for value in ("HS256", "postgres-password-staging", "secretKeyRef", "valueFrom"):
        assert value not in text


def test_first_and_last_seen_revision_per_signature(result) -> None:
    rows = {r["signature"]: r for r in result["signature_revisions"]}
    exit3 = rows["startup/exit-code-3"]
    assert exit3["first_seen_revision"].endswith("00411-q7d")  # the missing-module deploy
    assert exit3["last_seen_revision"].endswith("00412-abc")  # the #1278 cascade
    assert rows["auth/timeout"]["last_seen_revision"].endswith("00410-k2m")
    assert sum(exit3["revisions"].values()) == exit3["count"]


# --- checks, against figures computed from the raw generated entries ---


def _requests() -> list[dict[str, Any]]:
    return [e for e in demo_entries() if "httpRequest" in e]


def _latency_s(entry: dict[str, Any]) -> float:
    return float(str(entry["httpRequest"].get("latency", "0s")).rstrip("s"))


def test_checks_measure_the_seeds_targets(result) -> None:
    checks = {c["id"]: c for c in result["checks"]}
    assert list(checks) == ["db-connection", "startup", "health-latency", "5xx-ratio"]
    # DB connection: every DB-init timeout the generator wrote, at its logged timeout
    timeouts = [
        float(m.group(1))
        for e in demo_entries()
        for m in [re.search(r"Database initialization timeout after (\d+(?:\.\d+)?)s", _text(e))]
        if m
    ]
    db = checks["db-connection"]
    assert db["status"] == "fail"
    assert f"{len(timeouts):,} timed attempts" in db["measured"]
    assert f"longest {max(timeouts):,.1f} s" in db["measured"]
    # startup: crash-looping cascade and missing-module instances, and the two failed probes
    failed = (
        sum(
            len(TRUTH.incident(k).instance_ids)
            for k in ("issue-1278-cascade", "missing-module-crashloop")
        )
        + 2
    )
    assert checks["startup"]["status"] == "fail"
    assert f"{failed:,} failed before ready" in checks["startup"]["measured"]
    # health: /health* requests at or over 10 s
    health = [
        e
        for e in _requests()
        if urlsplit(e["httpRequest"]["requestUrl"]).path.startswith("/health")
    ]
    slow = sum(1 for e in health if _latency_s(e) >= 10)
    failed_health = sum(1 for e in health if e["httpRequest"]["status"] >= 500)
    assert slow > 0 and checks["health-latency"]["status"] == "fail"
    measured = checks["health-latency"]["measured"]
    assert f"{len(health):,} /health* requests, {failed_health:,} answered 5xx" in measured
    assert f"{slow:,} at or over 10 s" in measured
    # 5xx ratio per service
    total = Counter(e["resource"]["labels"]["service_name"] for e in _requests())
    errors = Counter(
        e["resource"]["labels"]["service_name"]
        for e in _requests()
        if e["httpRequest"]["status"] >= 500
    )
    measured = {d["service"]: d for d in checks["5xx-ratio"]["details"]}
    for service, n in total.items():
        assert measured[service]["requests"] == n
        assert measured[service]["5xx"] == errors[service]
        assert measured[service]["source"].startswith("request logs")


def _text(entry: dict[str, Any]) -> str:
    return str(entry.get("textPayload") or (entry.get("jsonPayload") or {}).get("message") or "")


def test_request_count_metric_is_preferred_when_collected(tmp_path: Path) -> None:
    """This test is about metrics: it inserts request_count points a collector would write."""
    db = demo_store_copy(tmp_path)
    with open_store(db) as store:
        for code, value in (("2xx", 99_000.0), ("5xx", 2_000.0)):
            store.conn.execute(
                "INSERT INTO metric_points (metric_type, resource_type, resource_labels, "
                "metric_labels, service, start_time, point_time, value, value_count, value_kind, "
                "source, ingest_id) VALUES ('run.googleapis.com/request_count', "
                "'cloud_run_revision', '{}', ?, 'netra-auth-service', ?, ?, ?, NULL, 'int64', "
                "'test', 0)",
                [
                    json.dumps({"response_code_class": code}),
                    DEMO_WINDOW.since,
                    DEMO_WINDOW.since + (DEMO_WINDOW.until - DEMO_WINDOW.since) / 2,
                    value,
                ],
            )
        result = build_analysis(store, DEMO_WINDOW, registry=demo_registry())
    check = next(c for c in result["checks"] if c["id"] == "5xx-ratio")
    auth = next(d for d in check["details"] if d["service"] == "netra-auth-service")
    assert (auth["requests"], auth["5xx"]) == (101_000, 2_000)
    assert auth["source"] == "request_count metric"
    assert check["status"] == "fail"  # 1.98 % is over the 1 % limit
    # and the traffic after #395's fix now counts the metric's requests
    status = next(i for i in result["issues"] if i["id"] == "#395")
    assert status["after_fix"]["requests_source"] == "request_count metric"


def test_drift_rows_are_one_per_change_but_an_image_in_order() -> None:
    """The drift evidence frame made once per analysis: the rows a loop over every drift row's
    changes gives (an image change is a deploy, not drift), in the same order and types."""
    from datetime import UTC, datetime, timedelta

    from forensics.incidents.build import _ROW_SCHEMA, _drift_rows
    from forensics.incidents.model import Drift

    t0 = datetime(2025, 9, 16, tzinfo=UTC)
    kinds = [["image"], ["image", "env", "scaling"], [], ["vpc", "vpc"], ["resources"]]
    drift = [
        Drift(
            f"svc-{i % 2}",
            t0 + timedelta(minutes=i),
            None,
            f"r{i}" if i else None,
            [{"field": k, "kind": k} for k in ks],
            f"id{i}",
        )
        for i, ks in enumerate(kinds)
    ]
    rows = [
        (d.time, f"drift/{c['kind']}", d.service, d.to_revision)
        for d in drift
        for c in d.changes
        if c["kind"] != "image"
    ]
    expected = pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row")
    assert _drift_rows(drift).equals(expected) and _drift_rows(drift).height == 5
    assert _drift_rows([]).equals(pl.DataFrame([], schema=_ROW_SCHEMA, orient="row"))
