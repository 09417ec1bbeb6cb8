"""Incidents with honest boundaries on the demo day with its Cloud Monitoring metrics: an
incident runs from its first failure evidence to its last; open-ended signals (a VPC connector
that never scales in, a metric still high at the window's end) annotate incidents but never
extend or merge them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from forensics.analysis import analyze_window
from forensics.collectors.signals import compute_signals
from forensics.config import Thresholds
from forensics.incidents import build_analysis
from forensics.report import build_report
from forensics.store import open_store
from tests.incidents_support import (
    DEMO_END,
    DEMO_WINDOW,
    demo_registry,
    demo_store_copy,
    demo_truth,
)
from tests.reportdata import load_demo_metrics

TRUTH = demo_truth()
SLACK = timedelta(minutes=2)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = demo_store_copy(tmp_path_factory.mktemp("boundaries-report"))
    with open_store(db) as store:
        load_demo_metrics(store, DEMO_END)
        compute_signals(store, Thresholds())
        analysis = analyze_window(store, DEMO_WINDOW, registry=demo_registry())
        return build_report(store, DEMO_WINDOW, now=DEMO_END, analysis=analysis)


def test_postmortem_duration_matches_the_incidents_range(report) -> None:
    """The demo's HTML said "lasted 4 h 46 min" beside a 10-hour range, and called a 503 of
    the #131 incident the #1278 "resolution"."""
    for incident in report["incidents"]:
        pm = incident["postmortem"]
        start, end = when(incident["start"]), when(incident["end"])
        assert pm["started"] == incident["start"]
        if pm["resolved_at"] is not None:
            resolved = when(pm["resolved_at"])
            assert end <= resolved <= end + timedelta(minutes=1), incident["id"]
            minutes = int((resolved - start).total_seconds() // 60)
            text = (
                f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
            )
            assert pm["duration"] == text or (minutes == 0 and pm["duration"].endswith(" s"))
        own = {incident["service"], *(incident.get("related_services") or [])}
        for event in pm["events"]:
            if event["kind"] == "resolution":
                assert event["label"].rsplit(" on ", 1)[-1].rstrip(")") in own


@pytest.fixture(scope="module")
def analysed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    db = demo_store_copy(tmp_path_factory.mktemp("boundaries"))
    with open_store(db) as store:
        load_demo_metrics(store, DEMO_END)
        compute_signals(store, Thresholds())
        signals = store.query('SELECT signal, service, start, "end" FROM signals').to_dicts()
        result = build_analysis(store, DEMO_WINDOW, registry=demo_registry())
    return result, signals


def test_open_ended_signals_are_in_the_store(analysed) -> None:
    _, signals = analysed
    open_ended = [s for s in signals if s["end"] >= DEMO_WINDOW.until - timedelta(minutes=1)]
    assert {s["signal"] for s in open_ended} >= {"capacity/vpc-connector-scale-out"}


def test_an_incident_ends_at_its_last_failure_evidence(analysed) -> None:
    result, _ = analysed
    assert len(result["incidents"]) == len(TRUTH.incidents)
    for planted in TRUTH.incidents:
        found = [
            i
            for i in result["incidents"]
            if i["service"] == planted.service
            and when(i["start"]) < planted.end + SLACK
            and when(i["end"]) > planted.start - SLACK
        ]
        assert len(found) == 1, (planted.key, [(i["start"], i["end"]) for i in found])
        incident = found[0]
        assert planted.start - SLACK <= when(incident["start"]), planted.key
        assert when(incident["end"]) <= planted.end + SLACK, planted.key
        assert when(incident["end"]) < DEMO_WINDOW.until - timedelta(hours=1)


def test_signals_annotate_but_do_not_merge(analysed) -> None:
    result, _ = analysed
    cascade = next(i for i in result["incidents"] if "#1278" in i["issues"])
    memory = next(i for i in result["incidents"] if "capacity/run-memory-high" in i["chain"])
    assert cascade is not memory
    assert "capacity/run-memory-high" not in cascade["chain"]
    assert "#131" not in cascade["issues"]
    for incident in result["incidents"]:
        end = when(incident["end"])
        for signal in incident["signals"]:
            assert when(signal["start"]) <= end, (incident["id"], signal["signal"])
        # the chain never ends in a signal that began after the incident's last evidence
        starts = {s["signal"]: when(s["start"]) for s in incident["signals"]}
        last = incident["chain"][-1]
        assert last not in starts or starts[last] <= end, incident["id"]
