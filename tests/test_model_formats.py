"""Every output renders one analysis model, so their numbers agree across formats.

One model of the demo window is rendered as the terminal `analyze`, `--json`, the Markdown,
HTML and JSON reports, a snapshot State and a webhook payload; each number read back from each
rendering must equal the model's.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from forensics.analysis import AnalysisModel
from forensics.cli.analyze import render_analysis
from forensics.cli.common import dump_json
from forensics.paths import queries_dir
from forensics.report import render_html, render_json, render_markdown
from forensics.report.records import (
    ChartData,
    EntryCite,
    Impact,
    Postmortem,
    QueryCite,
    ReportFacts,
    TimelineEvent,
)
from forensics.snapshots.diff import compare
from forensics.snapshots.render import finding_lines, headline
from forensics.snapshots.spike import SpikeRule
from forensics.store import open_store
from forensics.watch.webhook import slack_payload
from tests.reportdata import GOLDEN_NOW, GOLDEN_VERSION, build_store, golden_model


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> AnalysisModel:
    path = build_store(tmp_path_factory.mktemp("formats") / "store.duckdb", entries=4000)
    with open_store(path, read_only=True) as store:
        return golden_model(store)


@pytest.fixture(scope="module")
def context(model: AnalysisModel) -> dict[str, Any]:
    return model.report_context(now=GOLDEN_NOW, version=GOLDEN_VERSION)


def _day(stamp: str) -> str:
    """'2025-09-16T14:00:00Z' as reports print it: '2025-09-16 14:00:00Z'."""
    return stamp.replace("T", " ")[:19] + "Z"


def _issues(model: AnalysisModel) -> dict[str, dict[str, Any]]:
    return {i.id: i.as_dict() for i in model.incidents.issues}


def test_model_has_something_to_compare(model: AnalysisModel) -> None:
    assert model.entries_in_window > 0 and model.incidents.incidents
    assert any(i["contradiction"] for i in _issues(model).values())


def test_json_outputs_match_the_model(model: AnalysisModel, context: dict[str, Any]) -> None:
    analysis = json.loads(dump_json(model.analysis()))
    report = json.loads(render_json(context))
    want = _issues(model)
    for doc in (analysis, report):
        assert doc["entries_in_window"] == model.entries_in_window
        got = {i["id"]: i for i in doc["issues"]}
        assert set(got) == set(want)
        for issue_id, issue in want.items():
            for key in ("status", "evidence_in_window", "evidence", "contradiction"):
                assert got[issue_id][key] == issue[key], (issue_id, key)
        spans = [(i["start"], i["end"]) for i in doc["incidents"]]
        found = (x.as_dict() for x in model.incidents.incidents)
        model_spans = [(i["start"], i["end"]) for i in found]
        assert sorted(spans) == sorted(model_spans)
    # signature totals: the hourly table, the report's per-signature rows, the snapshot items
    hourly = Counter()
    for row in analysis["signatures"]:
        hourly[row["signature"]] += row["n"]
    assert {s["id"]: s["count"] for s in report["signatures"]} == dict(hourly)


def test_markdown_and_html_show_the_models_numbers(
    model: AnalysisModel, context: dict[str, Any]
) -> None:
    md = render_markdown(context)
    page = html.unescape(render_html(context))
    for issue_id, issue in _issues(model).items():
        row = re.search(
            rf"^\| \*\*\\{re.escape(issue_id)}\*\* .*? \| \*\*(\w+)\*\*[^|]*\| \w+ \| ([\d,]+) \|",
            md,
            re.M,
        )
        assert row, issue_id
        assert row[1] == issue["status"]
        assert int(row[2].replace(",", "")) == issue["evidence_in_window"]
        summary = re.search(rf"<summary><b>{re.escape(issue_id)}</b>[^<·]*· (\w+)", page)
        assert summary and summary[1] == issue["status"], issue_id
        cells = re.search(
            rf'href="#issue-{re.escape(issue_id[1:])}"><b>.*?<td class="num">([\d,]+)</td>',
            page,
            re.S,
        )
        assert cells and int(cells[1].replace(",", "")) == issue["evidence_in_window"], issue_id
    for number, inc in enumerate(
        sorted(
            (i.as_dict() for i in model.incidents.incidents), key=lambda i: (i["start"], i["id"])
        ),
        1,
    ):
        span = f"{_day(inc['start'])} → {_day(inc['end'])}"
        assert f"### Incident {number}: {span}" in md
        assert _day(inc["start"]) in page


def test_terminal_shows_the_models_numbers(
    model: AnalysisModel, capsys: pytest.CaptureFixture[str]
) -> None:
    render_analysis(model.analysis())
    out = capsys.readouterr().out
    assert f"{model.entries_in_window:,} entries in the window." in out
    for issue in _issues(model).values():
        line = next(
            (x for x in out.splitlines() if re.search(rf"│ {re.escape(issue['id'])}\s+│", x)), ""
        )
        assert issue["status"] in line, issue["id"]
        for sig, n in list(issue["evidence"].items())[:1]:
            assert f"{n:,} {sig}"[:20] in out
    for inc in model.incidents.incidents:
        assert inc.as_dict()["start"][:19].replace("T", " ") in out


def test_snapshot_and_webhook_carry_the_models_numbers(model: AnalysisModel) -> None:
    state = model.snapshot_state("2025-09-16")
    assert state.entries == model.entries_in_window
    issues = {i.key: i for i in state.items if i.kind == "issue"}
    for issue_id, issue in _issues(model).items():
        assert issues[issue_id].status == issue["status"]
        assert issues[issue_id].count == issue["evidence_in_window"]
    primary = Counter()
    for item in state.items:
        if item.kind == "signature":
            primary[item.key] += item.details["primary"]
    hourly = Counter()
    for row in model.signature_counts.iter_rows(named=True):
        hourly[row["signature"]] += row["n"]
    assert dict(primary - Counter()) == dict(hourly)
    # the webhook payload of a first run: contradicted issues with the model's status
    result = compare(state, [], SpikeRule(), first_run=True)
    payload = slack_payload(headline(result), finding_lines(result))
    text = payload["text"]
    for issue_id, issue in _issues(model).items():
        if issue["contradiction"]:
            line = next(x for x in text.splitlines() if issue_id in x)
            assert issue["status"] in line


def test_reports_read_no_store(model: AnalysisModel, tmp_path: Path) -> None:
    """The model is complete: rendering needs no store (it is closed here)."""
    context = model.report_context(now=GOLDEN_NOW, version=GOLDEN_VERSION)
    assert render_markdown(context) and render_html(context)


def _facts(model: AnalysisModel) -> ReportFacts:
    assert isinstance(model.report, ReportFacts)
    return model.report


def test_report_facts_are_typed_and_cite_their_evidence(model: AnalysisModel) -> None:
    facts = _facts(model)
    assert isinstance(facts.impact, Impact) and isinstance(facts.chart, ChartData)
    assert facts.incidents
    for inc in facts.incidents:
        pm = inc.postmortem
        assert isinstance(pm, Postmortem) and isinstance(pm.impact, Impact)
        assert isinstance(pm.impact.cite, QueryCite) and pm.impact.cite.query
        for event in pm.events:
            assert isinstance(event, TimelineEvent)
            cite = event.cite
            assert (isinstance(cite, EntryCite) and cite.insert_id and cite.timestamp) or (
                isinstance(cite, QueryCite) and cite.query
            ), event
    assert all(isinstance(c, QueryCite) and c.query for c in facts.chart.cite)


def _impacts(facts: ReportFacts) -> list[Impact]:
    return [facts.impact, *(i.postmortem.impact for i in facts.incidents)]


def test_impact_and_chart_numbers_match_in_every_format(
    model: AnalysisModel, context: dict[str, Any]
) -> None:
    facts = _facts(model)
    report = json.loads(render_json(context))
    assert report["impact"] == json.loads(dump_json(facts.impact.as_dict()))
    by_number = {i["number"]: i for i in report["incidents"]}
    for inc in facts.incidents:
        got = by_number[inc.number]["postmortem"]
        assert got["impact"]["failed_requests"] == inc.postmortem.impact.failed_requests
        assert got["impact"]["requests"] == inc.postmortem.impact.requests
        assert [e["time"] for e in got["events"]] == [
            e.as_dict()["time"] for e in inc.postmortem.events
        ]
    chart = report["chart"]["requests"]
    assert [(p["bucket"], p["service"], p["failed"], p["requests"]) for p in chart] == [
        (p.as_dict()["bucket"], p.service, p.failed, p.requests) for p in facts.chart.requests
    ]
    md = render_markdown(context)
    page = html.unescape(render_html(context))
    # the window's impact (summary) and each incident's, as each format prints them
    want = Counter(f"{i.failed_requests:,}" for i in _impacts(facts))
    in_md = Counter(re.findall(r"^- Failed requests: \*\*([\d,]+)\*\*", md, re.M))
    in_html = Counter(re.findall(r"Failed requests: <b>([\d,]+)</b>", page))
    assert in_md == want
    assert set(in_html) <= set(want) and in_html


def test_per_signature_counts_come_from_one_query(model: AnalysisModel) -> None:
    """The report's per-signature rows are the analysis' hourly rows aggregated (one query)."""
    hourly = model.signature_counts
    facts = _facts(model)
    assert facts.signatures
    for row in facts.signatures:
        mine = hourly.filter(pl.col("signature") == row["id"])
        first = mine.sort("first_seen", "first_insert_id").row(0, named=True)
        last = mine.sort("last_seen", "last_insert_id").row(-1, named=True)
        assert row["count"] == mine["n"].sum()
        assert row["first"]["insert_id"] == first["first_insert_id"]
        assert row["last"]["insert_id"] == last["last_insert_id"]
        assert sorted(row["services"]) == sorted(set(mine["service"]))
        assert row["cite"]["query"] == "hour_service_signature_count"
    assert not (queries_dir() / "window_signature_summary.sql").exists()
