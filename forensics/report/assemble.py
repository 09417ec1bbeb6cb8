"""Assemble the report context from the analysis and its report facts: no store, no clock.

``assemble_report(analysis, facts, window, now=..., version=...)`` is what every format
renders (Markdown, HTML, JSON): the analysis with the typed ``ReportFacts``
(forensics.report.records) as JSON; forensics.report.model reads the facts from the store once, and
``AnalysisModel.report_context`` calls this on the model's own data.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from forensics import __version__
from forensics.jsonable import jsonable
from forensics.paths import patterns_dir
from forensics.redact import Redactor
from forensics.report import facts
from forensics.report.links import logs_explorer_url, safe_http_url
from forensics.report.records import ReportFacts
from forensics.sql import load_query
from forensics.timeutil import Window

__all__ = ["REPORT_SCHEMA", "assemble_report", "rows"]

REPORT_SCHEMA = "forensics.report/1"


def rows(value: Any) -> list[dict[str, Any]]:
    """Analysis values arrive as frames or lists; reports want lists of dicts."""
    if value is None:
        return []
    if hasattr(value, "to_dicts"):  # a polars frame
        return list(value.to_dicts())
    return [dict(v) for v in value]


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
    for issue in rows(analysis.get("issues")):
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


def assemble_report(
    analysis: dict[str, Any],
    report: ReportFacts,
    window: Window,
    *,
    now: datetime,
    version: str = __version__,
    redact_emails: bool = False,
) -> dict[str, Any]:
    """The report context from the analysis and its report facts alone (no store, no clock)."""
    found = report.as_dict()
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
        "deploys_summary": found["deploys_summary"],
        "drift": found["drift"],
        "drift_summary": found["drift_summary"],
        "analysis_notes": _notes(analysis),
        "checks": rows(analysis.get("checks")),
        "signals": rows(analysis.get("signals")),
        "chart": found["chart"],
    }
    context["method"] = _method(context)
    redactor = Redactor(emails=redact_emails)
    redacted: dict[str, Any] = redactor.tree(jsonable(context))
    redacted["redactions"] = dict(sorted(redactor.counts.items()))
    return redacted
