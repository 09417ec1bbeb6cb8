"""Read a report's own facts from the store, once; build a report context for a store.

Usage:
  1. ``report_facts(store, window, analysis, catalog)`` reads what only reports show (sources,
     per-signature evidence and examples, postmortem timelines, impact, chart series); the
     analysis model keeps it (forensics.pipeline.build_model(report=True)).
  1b. ``build_report(store, window, now=..., version=...)`` = the analysis, its report facts and
     forensics.report.assemble.assemble_report (which redacts secrets from every string).
  2. render.py turns the dict into Markdown and HTML; the JSON report is the dict itself.
Nothing here reads the clock or the version by itself: both are injected, so the same store
and window always give the same report (golden tests rely on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from forensics import __version__
from forensics.analysis import analyze_window
from forensics.incidents import digest
from forensics.incidents.traffic import TrafficLedger
from forensics.report import facts
from forensics.report.assemble import REPORT_SCHEMA, assemble_report
from forensics.report.assemble import rows as _rows
from forensics.report.chart import chart_data
from forensics.report.impact import request_minutes
from forensics.report.markers import Markers, marker
from forensics.report.postmortem import Scope, postmortems
from forensics.report.records import (
    Postmortem,
    QueryCite,
    ReportFacts,
    ReportIncident,
    TimelineEvent,
)
from forensics.signatures import Catalog, load_catalog
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window, parse_time

if TYPE_CHECKING:
    from forensics.incidents.build import Analysis

__all__ = ["REPORT_DEPLOYS", "REPORT_SCHEMA", "build_report", "report_facts"]

REPORT_DEPLOYS = 50  # deploys (and drift rows) a report lists; the rest are counted
_EARLIEST = datetime.min.replace(tzinfo=UTC)  # sorts an event without a time first


def _attributed_issues(counts: Any) -> dict[str, list[str]]:
    """Signature -> the issues its lines were attributed to (the analysis' signature rows)."""
    found: dict[str, set[str]] = {}
    for row in _rows(counts):
        found.setdefault(row["signature"], set()).update(row.get("issues") or [])
    return {sig: sorted(issues) for sig, issues in found.items()}


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_time(str(value))


def _project(store: Store, window: Window, project: str | None) -> str | None:
    if project:
        return project
    found = run_named(store, "window_projects", window.params())
    return None if found.is_empty() else str(found["project_id"][0])


def _deploys(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """Deploy markers from the analysis, each with a time, service, revision and label, in
    time order (``_cited`` adds the cite to the ones a report lists: a wide fleet has tens of
    thousands, and a cite's Logs Explorer link is most of a marker's cost). O(d log d)."""
    out = []
    for dep in _rows(analysis.get("deploys")):
        when = _time(dep.get("time") or dep.get("timestamp"))
        if when is None:
            continue
        marker = {**dep, "time": when, "revision": dep.get("revision") or dep.get("new_revision")}
        marker["label"] = facts.deploy_label(marker)
        out.append(marker)
    return sorted(out, key=lambda d: (d["time"], str(d.get("service"))))


def _cited(deploys: list[dict[str, Any]], project: str | None) -> list[dict[str, Any]]:
    """The deploy markers with the cite of their audit entry (only the ones shown); the label
    stays the last key."""
    return [
        {
            **{k: v for k, v in dep.items() if k != "label"},
            "cite": facts.entry_cite({**dep, "timestamp": dep["time"]}, project),
            "label": dep["label"],
        }
        for dep in deploys
    ]


def _drift(rows: list[dict[str, Any]], project: str | None) -> list[dict[str, Any]]:
    """Configuration changes between revisions, one line per change, with their audit entry."""
    if not rows:
        return []
    from forensics.incidents.config_diff import describe_change  # the stage that found them

    return [
        {
            **d,
            "summary": [describe_change(c) for c in d.get("changes") or []],
            "cite": facts.entry_cite({**d, "timestamp": _time(d.get("time"))}, project),
        }
        for d in rows
    ]


def _incidents(
    store: Store,
    window: Window,
    analysis: dict[str, Any],
    common: dict[str, Any],
    project: str | None,
) -> tuple[Postmortem, list[ReportIncident]]:
    """The window's postmortem, and the incidents in time order, numbered, each with its
    postmortem and cited evidence (every scope read from the store at once)."""
    found = []
    for inc in _rows(analysis.get("incidents")):
        start, end = _time(inc.get("start")), _time(inc.get("end"))
        if start is not None and end is not None:
            found.append((start, end, inc))
    found.sort(key=lambda f: (f[0], str(f[2].get("id"))))
    scopes = [Scope("window", window.since, window.until, every_service=True)]
    for start, end, inc in found:
        services = [s for s in (inc.get("service"), *(inc.get("related_services") or [])) if s]
        scopes.append(
            Scope(
                key=str(inc.get("id")),
                start=start,
                end=end,
                signatures=tuple(sorted((inc.get("signatures") or {}).keys())),
                services=tuple(services),
            )
        )
    window_pm, *incident_pms = postmortems(store, scopes, window=window, project=project, **common)
    out = []
    for number, ((_, _, inc), pm) in enumerate(zip(found, incident_pms, strict=True), 1):
        evidence = tuple(
            {
                **line,
                "cite": facts.entry_cite(
                    {**line, "timestamp": _time(line.get("timestamp"))}, project
                ),
            }
            for line in inc.get("evidence") or []
        )
        links = {(link.get("from"), link.get("to")): link for link in inc.get("links") or []}
        chain = inc.get("chain") or []
        out.append(
            ReportIncident(
                number=number,
                incident=inc,
                evidence=evidence,
                chain_links=tuple(
                    {"step": step, "link": links.get((chain[i - 1], step)) if i else None}
                    for i, step in enumerate(chain)
                ),
                postmortem=pm,
            )
        )
    return window_pm, out


def _overall_timeline(
    incidents: list[ReportIncident],
    window_events: tuple[TimelineEvent, ...],
    deploys: list[dict[str, Any]],
    project: str | None,
) -> list[TimelineEvent]:
    """The window at a glance: each incident's key moments and every deploy, in time order."""
    if not incidents:
        return list(window_events)
    keep = {"first_signal", "impact_start", "detection", "resolution"}
    events = [
        replace(event, incident=f"incident {inc.number}")
        for inc in incidents
        for event in inc.postmortem.events
        if event.kind in keep
    ]
    events += [
        TimelineEvent(
            dep["time"],
            "deploy",
            dep["label"],
            facts.entry_ref({**dep, "timestamp": dep["time"]}, project),
            revision=dep.get("revision"),
        )
        for dep in deploys
    ]
    return sorted(events, key=lambda e: (e.time or _EARLIEST, e.incident or ""))


def _catalog_info(catalog: Catalog, signatures: list[dict[str, Any]]) -> dict[str, Any]:
    stored = sorted({v for s in signatures for v in s["catalog_versions"]})
    return {
        "version": catalog.version,
        "signatures": len(catalog.signatures),
        "precedence": [s.id for s in catalog.signatures],
        "match_versions": stored,
        # Matches classified by another catalog may differ from what the current one finds.
        "stale": any(v != catalog.version for v in stored),
    }


def report_facts(
    store: Store,
    window: Window,
    analysis: dict[str, Any],
    catalog: Catalog,
    *,
    counts: pl.DataFrame | None = None,
    project: str | None = None,
    examples_per_signature: int = facts.EXAMPLES_PER_SIGNATURE,
    traffic: TrafficLedger | None = None,
    markers: Analysis | None = None,
) -> ReportFacts:
    """What a report shows beyond the analysis, read from the store once (the model keeps it):
    sources, per-signature evidence and examples, each incident's postmortem and impact, the
    window's timeline and chart series. Every fact cites its entry or named query.

    ``counts`` are the model's hourly signature rows (``hour_service_signature_count``); the
    per-signature rows aggregate them (run here only for a caller without a model); ``traffic``
    is the analysis' (``forensics.incidents.traffic``), read from the store when absent;
    ``markers`` is the analysis whose deploy markers and drift rows are read (then the
    ``analysis`` dict need not hold them as dicts: a wide fleet has 20,000 of each)."""
    project = _project(store, window, project)
    counted = {**window.params(), "recent_since": window.until}
    if counts is None:
        counts = run_named(store, "hour_service_signature_count", counted)
    signatures = facts.signature_summaries(
        counts,
        QueryCite("hour_service_signature_count", counted),
        window,
        catalog,
        project,
        _attributed_issues(analysis.get("signatures")),
    )
    examples = facts.signature_examples(store, window, project, examples_per_signature)
    deploys: Sequence[dict[str, Any]]
    drift: Sequence[Any]
    if markers is None:  # the analysis' dicts
        deploys = _deploys(analysis)
        listed = _cited(digest.shown(deploys, REPORT_DEPLOYS), project)
        drift = _rows(analysis.get("drift"))
        drift_listed = digest.shown(drift, REPORT_DEPLOYS)
        drift_kinds = [str(c.get("kind") or "?") for d in drift for c in d.get("changes") or []]
    else:  # the markers themselves: dicts of the ones listed or near an incident only
        deploys = Markers(markers.deploys)
        shown = digest.shown(deploys.objects, REPORT_DEPLOYS)
        listed = _cited([marker(d) for d in shown], project)
        drift = markers.drift
        drift_listed = [d.as_dict() for d in digest.shown(drift, REPORT_DEPLOYS)]
        drift_kinds = [str(c.get("kind") or "?") for d in drift for c in d.changes or []]
    requests = request_minutes(store, window, traffic)
    common: dict[str, Any] = {
        "requests": requests,
        "signals": _rows(analysis.get("signals")),
        "deploys": deploys,
    }
    window_pm, incidents = _incidents(store, window, analysis, common, project)
    return ReportFacts(
        project=project,
        catalog=_catalog_info(catalog, signatures),
        sources=tuple(facts.sources(store, window)),
        data_gaps=tuple(facts.data_gaps(store, window)),
        incidents=tuple(incidents),
        timeline=tuple(_overall_timeline(incidents, window_pm.events, listed, project)),
        impact=window_pm.impact,
        signatures=tuple({**s, "examples": examples.get(s["id"], [])} for s in signatures),
        unknown_templates=tuple(
            facts.unknown_templates(analysis.get("unknown_templates"), window, project)
        ),
        # a wide fleet deploys thousands of revisions a day: the report lists a bounded number
        # (failed first, then the latest) and counts them all; `analyze --json` has every one
        deploys=tuple(listed),
        deploys_summary=digest.counts(deploys if markers is None else markers.deploys, len(listed)),
        drift=tuple(_drift(drift_listed, project)),
        drift_summary=digest.counts(drift, len(drift_listed), drift_kinds),
        chart=chart_data(store, window, requests),
        known_signatures={
            s.id: {"title": s.title, "logging_filter": s.logging_filter()}
            for s in catalog.signatures
        },
    )


def build_report(
    store: Store,
    window: Window,
    *,
    now: datetime,
    version: str = __version__,
    project: str | None = None,
    redact_emails: bool = False,
    catalog: Catalog | None = None,
    analysis: dict[str, Any] | None = None,
    examples_per_signature: int = facts.EXAMPLES_PER_SIGNATURE,
) -> dict[str, Any]:
    """The report context for ``window`` (see the module docstring).

    The CLI builds reports from the analysis model (forensics.pipeline.build_model, then
    ``AnalysisModel.report_context``); this is the same for a caller holding a store.

    Args:
        store: an open evidence store, classified for the window.
        window: the window to report on.
        now: when the report was generated (shown, never read from the clock here).
        version: the tool version to state in the header.
        project: GCP project for Logs Explorer links; default: the window's main project.
        redact_emails: also hide e-mail addresses.
        catalog: the signature catalog (default: patterns/).
        analysis: a precomputed ``analyze_window`` result (default: computed here).
        examples_per_signature: representative lines per signature (the first N, plus the
            last one).

    Returns:
        A JSON-ready dict; ``context["redactions"]`` counts what was hidden.
    """
    catalog = catalog or load_catalog()
    analysis = analysis if analysis is not None else analyze_window(store, window)
    found = report_facts(
        store,
        window,
        analysis,
        catalog,
        project=project,
        examples_per_signature=examples_per_signature,
    )
    return assemble_report(
        analysis, found, window, now=now, version=version, redact_emails=redact_emails
    )
