"""The report's facts against ground truth: the demo's planted incidents and plain SQL counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from forensics.demo import scenario
from forensics.report.chart import bucket_seconds, chart_data, sparkline
from forensics.report.impact import request_minutes
from forensics.report.links import entry_filter, logs_explorer_url, safe_http_url
from forensics.report.postmortem import Scope, postmortem
from forensics.signatures import load_catalog
from forensics.store import Store
from forensics.timeutil import Window
from tests.reportdata import GOLDEN_END, GOLDEN_WINDOW, build_store

TRUTH = scenario(GOLDEN_END)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("model") / "store.duckdb", entries=8000)


def _deploys() -> list[dict[str, Any]]:
    return [
        {"time": d.time, "service": d.service, "revision": d.new_revision, "cite": {}}
        for d in TRUTH.deploys
    ]


def _postmortem(store: Store, key: str) -> dict[str, Any]:
    planted = TRUTH.incident(key)
    scope = Scope(key, planted.start, planted.end, signatures=tuple(planted.chain))
    return postmortem(
        store,
        scope,
        window=GOLDEN_WINDOW,
        requests=request_minutes(store, GOLDEN_WINDOW),
        signals=[],
        deploys=_deploys(),
        project="netra-staging",
    ).as_dict()


def _events(pm: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in pm["events"] if e["kind"] == kind]


def _entry(store: Store, insert_id: str) -> dict[str, Any]:
    rows = store.query("SELECT * FROM entries WHERE insert_id = $i", {"i": insert_id}).to_dicts()
    assert len(rows) == 1, insert_id
    return rows[0]


@pytest.mark.parametrize("incident", TRUTH.incidents, ids=[i.key for i in TRUTH.incidents])
def test_postmortem_matches_the_planted_incident(report_store: Store, incident: Any) -> None:
    pm = _postmortem(report_store, incident.key)
    first = _events(pm, "first_signal")[0]
    entry = _entry(report_store, first["cite"]["insert_id"])
    assert incident.start <= entry["timestamp"] <= incident.end
    assert first["time"] == entry["timestamp"].isoformat().replace("+00:00", "Z")
    assert pm["ongoing"] is False
    resolution = _events(pm, "resolution")[0]
    assert incident.start <= _entry(report_store, resolution["cite"]["insert_id"])["timestamp"]
    assert resolution["time"] <= (incident.end + timedelta(minutes=2)).isoformat()
    assert incident.revision in pm["impact"]["affected"]["revisions"]
    if "cloudrun/http-503" in incident.chain:
        start = _events(pm, "impact_start")[0]
        assert _entry(report_store, start["cite"]["insert_id"])["http_status"] >= 500
        assert pm["impact"]["failed_requests"] > 0
        assert pm["impact"]["peak"]["ratio"] >= 0.05


def test_cascade_starts_with_capacity_and_counts_failed_starts(report_store: Store) -> None:
    planted = TRUTH.incident("issue-1278-cascade")
    pm = _postmortem(report_store, planted.key)
    assert "cloudsql/too-many-clients" in _events(pm, "first_signal")[0]["label"]
    detection = _events(pm, "detection")[0]
    assert _entry(report_store, detection["cite"]["insert_id"])["severity_number"] >= 500
    starts = pm["impact"]["failed_starts"]
    assert 1 <= starts["instances"] <= len(planted.instance_ids)
    assert starts["entries"] >= starts["instances"]


def test_fix_deploy_is_a_mitigation_and_bad_deploy_precedes(report_store: Store) -> None:
    pm = _postmortem(report_store, "missing-module-crashloop")
    mitigations = _events(pm, "mitigation")
    assert [m["revision"] for m in mitigations] == ["netra-backend-staging-00412-abc"]
    before = [e for e in _events(pm, "deploy") if "before the first signal" in e["label"]]
    assert [e["revision"] for e in before] == ["netra-backend-staging-00411-q7d"]


def test_window_impact_equals_plain_sql(report_store: Store, report: dict[str, Any]) -> None:
    params = GOLDEN_WINDOW.params()
    failed = report_store.scalar(
        'SELECT count(*) FROM entries WHERE http_status >= 500 AND "timestamp" >= $since '
        'AND "timestamp" < $until',
        params,
    )
    requests = report_store.scalar(
        'SELECT count(*) FROM entries WHERE http_status IS NOT NULL AND "timestamp" >= $since '
        'AND "timestamp" < $until',
        params,
    )
    assert report["impact"]["failed_requests"] == failed > 0
    assert report["impact"]["requests"] == requests
    assert report["impact"]["source"].startswith("request logs")


def test_signature_counts_and_chart_equal_plain_sql(
    report_store: Store, report: dict[str, Any]
) -> None:
    rows = report_store.query(
        "SELECT signature, count(*) AS n FROM signature_matches WHERE is_primary "
        'AND "timestamp" >= $since AND "timestamp" < $until GROUP BY 1',
        GOLDEN_WINDOW.params(),
    ).to_dicts()
    expected = {r["signature"]: r["n"] for r in rows}
    assert {s["id"]: s["count"] for s in report["signatures"]} == expected
    charted: dict[str, int] = {}
    for row in report["chart"]["counts"]:
        charted[row["signature"]] = charted.get(row["signature"], 0) + row["n"]
    assert charted == expected  # every lane fits (fewer services than MAX_LANES)
    for sig in report["signatures"]:
        first = _entry(report_store, sig["first"]["insert_id"])
        assert first["timestamp"].isoformat().replace("+00:00", "Z") == sig["first_seen"]


def test_every_fact_cites_an_entry_or_a_query(report: dict[str, Any]) -> None:
    def cites(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            if "cite" in value:
                yield value["cite"]
            for v in value.values():
                yield from cites(v)
        elif isinstance(value, list):
            for v in value:
                yield from cites(v)

    found = list(cites({k: v for k, v in report.items() if k != "chart"}))
    assert len(found) > 50
    for cite in found:
        assert cite.get("insert_id") or cite.get("query"), cite
    assert all(e["cite"] for e in report["timeline"])
    described = {m["query"]: m["description"] for m in report["method"]}
    assert "hour_service_signature_count" in described and all(described.values())


def test_header_states_window_sources_versions(report: dict[str, Any]) -> None:
    assert report["window"] == GOLDEN_WINDOW.as_dict()
    assert report["catalog"]["version"] == load_catalog().version
    assert report["catalog"]["stale"] is False
    assert [s["source"] for s in report["sources"]] == ["demo-export.jsonl"]
    assert report["sources"][0]["entries_in_window"] == report["entries_in_window"] == 8000
    assert report["generated_at"] == "2025-09-17T00:30:00Z"


def test_chart_buckets_and_sparkline(report_store: Store) -> None:
    assert bucket_seconds(GOLDEN_WINDOW) == 600
    assert bucket_seconds(Window(GOLDEN_END - timedelta(hours=1), GOLDEN_END)) == 60
    chart = chart_data(report_store, GOLDEN_WINDOW, request_minutes(report_store, GOLDEN_WINDOW))
    line = sparkline(chart.as_dict(), "netra-backend-staging")
    assert len(line) == 24
    busiest = max(range(24), key=lambda h: line[h] if line[h] != "\u2007" else "")
    assert line[busiest] == "█"
    assert line[0] == "\u2007"  # nothing matched in the first hour of the demo day


def test_logs_explorer_links_are_encoded() -> None:
    hostile = 'x" OR "1"="1"><script>alert(1)</script> ;timeRange=evil?project=other'
    query = entry_filter(hostile, "projects/p/logs/run.googleapis.com/stderr")
    url = logs_explorer_url(query, GOLDEN_END, GOLDEN_END, "netra-staging")
    head, _, project = url.partition("?project=")
    assert project == "netra-staging"
    assert not any(ch in url for ch in " \"<>'")
    encoded_query = head.split(";query=", 1)[1].split(";timeRange=", 1)[0]
    assert unquote(encoded_query) == query
    assert query.startswith('insertId="x\\" OR \\"1\\"=\\"1\\">')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://github.com/org/repo/issues/1278", "https://github.com/org/repo/issues/1278"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ('https://x.example/"onmouseover="alert(1)', None),
        ("//evil.example/x", None),
        (None, None),
    ],
)
def test_only_plain_http_issue_links(value: str | None, expected: str | None) -> None:
    assert safe_http_url(value) == expected
