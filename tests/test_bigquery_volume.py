"""After collect --bigquery the analysis counts what BigQuery counted, as after a plain ingest.

The same entries (the real staging export and a demo day with successful requests around its
incidents) are analysed twice: (a) after ``forensics ingest`` of them all, (b) after
``collect --bigquery`` of a sink holding them in a real BigQuery emulator, which brings home
the matched, candidate and context entries only and counts the rest per minute
(``minute_counts``). Volumes, request counts, failed ratios, incidents and issue statuses of
the JSON model must be equal, and the reports must name where the denominator came from;
every expected figure is path (a)'s (every match comes home whole, with the chunks of its split
traceback and the platform's audit and system logs, so incidents and statuses can be equal).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from forensics.analysis import AnalysisModel
from forensics.bigquery.client import bigquery_client
from forensics.bigquery.collect import BigQueryRequest, collect_bigquery
from forensics.bigquery.shapes import sink_round_trip
from forensics.bigquery.source import parse_source
from forensics.demo import generate_entries
from forensics.incidents.registry import load_registry
from forensics.ingest import ingest_texts
from forensics.pipeline import Sources, build_model
from forensics.store import Store, open_store
from forensics.timeutil import Window
from tests import bqemu
from tests.conftest import REAL_STAGING_ENTRIES
from tests.reportdata import DEMO_REGISTRY, GOLDEN_END, GOLDEN_SEED, GOLDEN_WINDOW
from tests.test_bigquery_views import canonical_duration

# Everything the entries span, and before now: collect counts a window as done up to now only.
COLLECTED = Window(datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC))


def _entries() -> list[dict[str, Any]]:
    """The real export and a 6,000-entry demo day (its requests are mostly 2xx), as a sink
    gives them back (so both paths analyse the very same entries)."""
    entries = [json.loads(line) for line in REAL_STAGING_ENTRIES.read_text().splitlines()]
    entries += list(generate_entries(6000, end=GOLDEN_END, seed=GOLDEN_SEED))
    for entry in entries:  # Logging writes a Duration back with 0/3/6/9 digits
        http = entry.get("httpRequest")
        if isinstance(http, dict) and isinstance(http.get("latency"), str):
            http["latency"] = canonical_duration(http["latency"])
    return sink_round_trip(entries)


def _model(store: Store) -> AnalysisModel:
    sources = Sources.with_registry(load_registry(DEMO_REGISTRY))
    return build_model(store, GOLDEN_WINDOW, sources, report=True)


def _figures(model: AnalysisModel) -> tuple[dict[str, Any], str]:
    """What must not depend on where the entries were counted: volumes, requests, failed
    ratios, incidents, statuses; and apart, the text naming the window's denominator."""
    analysis = model.analysis()
    assert model.report is not None
    five_xx = next(c for c in analysis["checks"] if c["id"] == "5xx-ratio")
    impacts = {
        scope: (i.requests, i.failed_requests, i.failed_ratio, i.impact_minutes, i.peak)
        for scope, i in [("window", model.report.impact)]
        + [(r.id, r.postmortem.impact) for r in model.report.incidents]
    }
    figures = {
        "entries_in_window": analysis["entries_in_window"],
        "volume": analysis["volume"].sort(["hour", "service", "severity"]).to_dicts(),
        "5xx": [(d["service"], d["requests"], d["5xx"], d["ratio"]) for d in five_xx["details"]],
        "5xx_status": five_xx["status"],
        "impacts": impacts,
        "incidents": [
            (i["id"], i["start"], i["end"], i["signatures"], i["issues"])
            for i in analysis["incidents"]
        ],
        "statuses": {
            s["id"]: (s["status"], (s.get("after_fix") or {}).get("requests"))
            for s in analysis["issues"]
        },
    }
    return figures, model.report.impact.source


@pytest.fixture(scope="module")
def both(bq_emulator: bqemu.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Any:
    entries = _entries()
    texts = [json.dumps(e) for e in entries]
    root = tmp_path_factory.mktemp("volume")
    with open_store(root / "ingested.duckdb") as store:
        assert ingest_texts(store, texts, "corpus.jsonl").rejected == 0
        ingested, ingested_source = _figures(_model(store))
    client = bigquery_client(bq_emulator.project, bq_emulator.endpoint)
    bqemu.load(client, f"{bq_emulator.project}.vol", entries, "sink")
    request = BigQueryRequest(parse_source("p.vol"), COLLECTED, bq_emulator.project, timeout_s=900)
    with open_store(root / "collected.duckdb") as store:
        report = collect_bigquery(store, request, client=client)
        assert report.status == "complete", report.error
        stored = store.scalar("SELECT count(*) FROM log_entries")
        collected, collected_source = _figures(_model(store))
    return {
        "ingested": ingested,
        "collected": collected,
        "stored": stored,
        "total": len(texts),
        "sources": (ingested_source, collected_source),
    }


def test_bigquery_brings_home_part_of_the_entries(both: dict[str, Any]) -> None:
    """Most entries stay in BigQuery: without minute_counts the volumes would fall short."""
    assert 0 < both["stored"] < both["total"]
    assert both["collected"]["entries_in_window"] > both["stored"]


@pytest.mark.parametrize("figure", ["entries_in_window", "volume"])
def test_volume_equals_the_ingested_one(both: dict[str, Any], figure: str) -> None:
    assert both["ingested"][figure]  # not vacuous: the window holds entries
    assert both["collected"][figure] == both["ingested"][figure]


def test_request_counts_and_failed_ratios_equal_the_ingested_ones(both: dict[str, Any]) -> None:
    want = both["ingested"]
    assert any(ratio for *_, ratio in want["5xx"])  # failed requests over a complete count
    assert any(requests for requests, *_ in want["impacts"].values())
    got = both["collected"]
    assert (got["5xx"], got["5xx_status"]) == (want["5xx"], want["5xx_status"])
    assert got["impacts"] == want["impacts"]


def test_the_reports_say_where_the_denominator_came_from(both: dict[str, Any]) -> None:
    ingested, collected = both["sources"]
    assert "file ingest" in ingested
    assert "BigQuery" in collected and "file" not in collected


def test_incidents_equal_the_ingested_ones(both: dict[str, Any]) -> None:
    assert both["ingested"]["incidents"]
    assert both["collected"]["incidents"] == both["ingested"]["incidents"]


def test_statuses_equal_the_ingested_ones(both: dict[str, Any]) -> None:
    want = {issue: status for issue, (status, _) in both["ingested"]["statuses"].items()}
    assert "RESOLVED" in want.values()  # not vacuous: a fix's rollout is read
    got = {issue: status for issue, (status, _) in both["collected"]["statuses"].items()}
    assert got == want


@pytest.mark.xfail(
    strict=True,
    reason="requests since #395's fix: 1829 after collect --bigquery against 1831 after ingest. "
    "A counted minute cannot be cut at the fix's second (minute_counts are per minute), so the "
    "requests of the fix's own minute after the fix count before it; every status is equal",
)
def test_requests_since_a_fix_equal_the_ingested_ones(both: dict[str, Any]) -> None:
    assert both["collected"]["statuses"] == both["ingested"]["statuses"]
