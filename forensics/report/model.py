"""Build a report's context: one JSON-ready dict that every format renders.

Usage:
  1. ``build_report(store, window, now=..., version=...)`` runs the analysis (or takes one),
     adds the report's own facts (sources, per-signature evidence, postmortem timelines,
     impact, chart series), and redacts secrets from every string in it.
  2. render.py turns the dict into Markdown and HTML; the JSON report is the dict itself.
Nothing here reads the clock or the version by itself: both are injected, so the same store
and window always give the same report (golden tests rely on it).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from forensics import __version__
from forensics.analysis import analyze_window
from forensics.jsonable import jsonable
from forensics.paths import patterns_dir
from forensics.redact import Redactor
from forensics.report import facts
from forensics.report.chart import chart_data
from forensics.report.links import logs_explorer_url, safe_http_url
from forensics.report.postmortem import Scope, postmortem, request_minutes
from forensics.signatures import Catalog, load_catalog
from forensics.sql import load_query, run_named
from forensics.store import Store
from forensics.timeutil import Window, parse_time

__all__ = ["REPORT_SCHEMA", "build_report"]

REPORT_SCHEMA = "forensics.report/1"


def _rows(value: Any) -> list[dict[str, Any]]:
    """Analysis values arrive as frames or lists; reports want lists of dicts."""
    if value is None:
        return []
    if isinstance(value, pl.DataFrame):
        return value.to_dicts()
    return [dict(v) for v in value]


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


def _deploys(analysis: dict[str, Any], project: str | None) -> list[dict[str, Any]]:
    """Deploy markers from the analysis, each with a time, service, revision and a cite."""
    out = []
    for dep in _rows(analysis.get("deploys")):
        when = _time(dep.get("time") or dep.get("timestamp"))
        if when is None:
            continue
        revision = dep.get("revision") or dep.get("new_revision")
        cite = facts.entry_cite({**dep, "timestamp": when, "revision": revision}, project)
        marker = {**dep, "time": when, "revision": revision, "cite": cite}
        out.append({**marker, "label": facts.deploy_label(marker)})
    return sorted(out, key=lambda d: (d["time"], str(d.get("service"))))


def _signature_rows(
    evidence: dict[str, Any],
    summaries: dict[str, dict[str, Any]],
    known: dict[str, dict[str, str]],
    window: Window,
    project: str | None,
) -> list[dict[str, Any]]:
    """An issue's evidence per signature, with the signature's Logs Explorer query."""
    rows = []
    for sig_id, count in sorted(evidence.items(), key=lambda kv: (-int(kv[1] or 0), kv[0])):
        sig = known.get(sig_id)
        query = sig["logging_filter"] if sig else ""
        summary = summaries.get(sig_id)
        rows.append(
            {
                "id": sig_id,
                # drift/* and metric signals are evidence too, but not log signatures
                "title": sig["title"] if sig else "",
                "count": count,
                "window_count": summary["count"] if summary else 0,
                "logs_url": (
                    logs_explorer_url(query, window.since, window.until, project) if query else None
                ),
            }
        )
    return rows


def _notes(analysis: dict[str, Any]) -> dict[str, Any]:
    """The analysis' notes, with registry files named as a reader would find them: shipped
    ones relative to the checkout (reports do not depend on where it lives), others as given."""
    notes = dict(analysis.get("analysis_notes") or {})
    home = patterns_dir().resolve()
    named = []
    for name in notes.get("registry_files") or []:
        path = Path(str(name)).resolve()
        named.append(f"patterns/{path.relative_to(home)}" if path.is_relative_to(home) else name)
    if named:
        notes["registry_files"] = named
    return notes


def _drift(analysis: dict[str, Any], project: str | None) -> list[dict[str, Any]]:
    """Configuration changes between revisions, one line per change, with their audit entry."""
    rows = _rows(analysis.get("drift"))
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


def _issues(
    analysis: dict[str, Any],
    summaries: dict[str, dict[str, Any]],
    incidents: list[dict[str, Any]],
    known: dict[str, dict[str, str]],
    window: Window,
    project: str | None,
) -> list[dict[str, Any]]:
    """Issues in the analysis' order (contradictions first), with their evidence lines."""
    out = []
    for issue in _rows(analysis.get("issues")):
        evidence = dict(issue.get("evidence") or {})
        mine = set(issue.get("incidents") or [])
        # Lines from the issue's own incidents: attributed to it, unlike a window-wide sample
        # of a symptom signature (a 503 of another incident is not this issue's evidence).
        lines = [
            line
            for inc in incidents
            if inc.get("id") in mine
            for line in inc["evidence"]
            if line.get("signature") in evidence
        ]
        out.append(
            {
                **issue,
                "url": safe_http_url(issue.get("url")),
                "signatures": _signature_rows(evidence, summaries, known, window, project),
                "lines": sorted(lines, key=lambda line: (line["timestamp"], line["insert_id"])),
            }
        )
    return out


def _incidents(
    store: Store,
    window: Window,
    analysis: dict[str, Any],
    common: dict[str, Any],
    project: str | None,
) -> list[dict[str, Any]]:
    """Incidents in time order, numbered, each with its postmortem and cited evidence."""
    found = []
    for inc in _rows(analysis.get("incidents")):
        start, end = _time(inc.get("start")), _time(inc.get("end"))
        if start is not None and end is not None:
            found.append((start, end, inc))
    out = []
    for number, (start, end, inc) in enumerate(
        sorted(found, key=lambda f: (f[0], str(f[2].get("id")))), 1
    ):
        services = [s for s in (inc.get("service"), *(inc.get("related_services") or [])) if s]
        scope = Scope(
            key=str(inc.get("id")),
            start=start,
            end=end,
            signatures=tuple(sorted((inc.get("signatures") or {}).keys())),
            services=tuple(services),
        )
        evidence = [
            {
                **line,
                "cite": facts.entry_cite(
                    {**line, "timestamp": _time(line.get("timestamp"))}, project
                ),
            }
            for line in inc.get("evidence") or []
        ]
        links = {(link.get("from"), link.get("to")): link for link in inc.get("links") or []}
        chain = inc.get("chain") or []
        out.append(
            {
                **inc,
                "number": number,
                "evidence": evidence,
                "chain_links": [
                    {"step": step, "link": links.get((chain[i - 1], step)) if i else None}
                    for i, step in enumerate(chain)
                ],
                "postmortem": postmortem(store, scope, window=window, project=project, **common),
            }
        )
    return out


def _overall_timeline(
    incidents: list[dict[str, Any]], window_pm: dict[str, Any], deploys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The window at a glance: each incident's key moments and every deploy, in time order."""
    if not incidents:
        return list(window_pm["events"])
    keep = {"first_signal", "impact_start", "detection", "resolution"}
    events = [
        {**event, "incident": f"incident {inc['number']}"}
        for inc in incidents
        for event in inc["postmortem"]["events"]
        if event["kind"] in keep
    ]
    for dep in deploys:
        events.append(
            {
                "time": facts.iso(dep["time"]),
                "kind": "deploy",
                "label": dep["label"],
                "cite": dep["cite"],
            }
        )
    return sorted(events, key=lambda e: (e["time"] or "", str(e.get("incident") or "")))


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


def _queries_used(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        if isinstance(value.get("query"), str):
            found.add(value["query"])
        for v in value.values():
            _queries_used(v, found)
    elif isinstance(value, list):
        for v in value:
            _queries_used(v, found)
    return found


def _method(context: dict[str, Any]) -> list[dict[str, str]]:
    """Every named query cited in the report, with what it computes (`forensics query NAME`)."""
    out = []
    for name in sorted(_queries_used(context, set())):
        try:
            out.append({"query": name, "description": load_query(name).description})
        except Exception:  # a cite naming a query of another stage that is not a file
            out.append({"query": name, "description": ""})
    return out


def report_facts(
    store: Store,
    window: Window,
    analysis: dict[str, Any],
    catalog: Catalog,
    *,
    project: str | None = None,
    examples_per_signature: int = facts.EXAMPLES_PER_SIGNATURE,
) -> dict[str, Any]:
    """What a report shows beyond the analysis, read from the store once (the model keeps it):
    sources, per-signature evidence and examples, each incident's postmortem and impact, the
    window's timeline and chart series. Every fact cites its entry or named query."""
    project = _project(store, window, project)
    signatures = facts.signature_summaries(
        store, window, catalog, project, _attributed_issues(analysis.get("signatures"))
    )
    examples = facts.signature_examples(store, window, project, examples_per_signature)
    deploys = _deploys(analysis, project)
    requests = request_minutes(store, window)
    common: dict[str, Any] = {
        "requests": requests,
        "signals": _rows(analysis.get("signals")),
        "deploys": deploys,
    }
    window_pm = postmortem(
        store,
        Scope("window", window.since, window.until, every_service=True),
        window=window,
        project=project,
        **common,
    )
    incidents = _incidents(store, window, analysis, common, project)
    return {
        "project": project,
        "catalog": _catalog_info(catalog, signatures),
        "sources": facts.sources(store, window),
        "data_gaps": facts.data_gaps(store, window),
        "incidents": incidents,
        "timeline": _overall_timeline(incidents, window_pm, deploys),
        "impact": window_pm["impact"],
        "signatures": [{**s, "examples": examples.get(s["id"], [])} for s in signatures],
        "unknown_templates": facts.unknown_templates(
            analysis.get("unknown_templates"), window, project
        ),
        "deploys": deploys,
        "drift": _drift(analysis, project),
        "chart": chart_data(store, window, requests),
        "known_signatures": {
            s.id: {"title": s.title, "logging_filter": s.logging_filter()}
            for s in catalog.signatures
        },
    }


def assemble_report(
    analysis: dict[str, Any],
    found: dict[str, Any],
    window: Window,
    *,
    now: datetime,
    version: str = __version__,
    redact_emails: bool = False,
) -> dict[str, Any]:
    """The report context from the analysis and its report facts alone (no store, no clock)."""
    summaries = {s["id"]: s for s in found["signatures"]}
    context: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "generated_at": facts.iso(now),
        "tool": {"name": "forensics", "version": version},
        "catalog": found["catalog"],
        "project": found["project"],
        "window": window.as_dict(),
        "entries_in_window": analysis.get("entries_in_window", 0),
        "sources": found["sources"],
        "data_gaps": found["data_gaps"],
        "issues": _issues(
            analysis,
            summaries,
            found["incidents"],
            found["known_signatures"],
            window,
            found["project"],
        ),
        "incidents": found["incidents"],
        "timeline": found["timeline"],
        "impact": found["impact"],
        "signatures": found["signatures"],
        "unknown_templates": found["unknown_templates"],
        "deploys": found["deploys"],
        "drift": found["drift"],
        "analysis_notes": _notes(analysis),
        "checks": _rows(analysis.get("checks")),
        "signals": _rows(analysis.get("signals")),
        "chart": found["chart"],
    }
    context["method"] = _method(context)
    redactor = Redactor(emails=redact_emails)
    redacted: dict[str, Any] = redactor.tree(jsonable(context))
    redacted["redactions"] = dict(sorted(redactor.counts.items()))
    return redacted


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
