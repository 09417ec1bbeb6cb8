"""The report's own facts from the store: sources, per-signature evidence, chart series.

Every fact carries a ``cite``: the entry it rests on (insert_id, timestamp, revision, log name)
or the named query that produced it with its parameters, so a reviewer can re-check it with
`forensics query NAME` or a Logs Explorer link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from forensics.report.links import entry_filter, logs_explorer_url
from forensics.report.records import EntryCite, QueryCite, iso
from forensics.signatures import Catalog
from forensics.signatures.summary import signature_totals
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = [
    "EXAMPLES_PER_SIGNATURE",
    "data_gaps",
    "entry_cite",
    "entry_ref",
    "iso",
    "query_cite",
    "signature_examples",
    "signature_summaries",
    "sources",
    "unknown_templates",
]

EXAMPLES_PER_SIGNATURE = 2  # the first two lines, plus the last one


def query_cite(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Cite a named query and the parameters it ran with."""
    return QueryCite(name, params).as_dict()


def entry_ref(row: dict[str, Any], project: str | None, prefix: str = "") -> EntryCite:
    """Cite one log entry: its identity, revision, and a Logs Explorer link to exactly it.

    ``prefix`` selects columns such as ``first_insert_id`` / ``first_seen``.
    """
    insert_id = row.get(f"{prefix}insert_id")
    ts = row.get(f"{prefix}timestamp") or row.get(f"{prefix}seen") or row.get(f"{prefix}at")
    log_name = row.get(f"{prefix}log_name")
    if isinstance(ts, str):  # an analysis row already rendered as JSON
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    url = None
    if insert_id and isinstance(ts, datetime):
        url = logs_explorer_url(
            entry_filter(str(insert_id), log_name), ts, ts, project, pad=timedelta(minutes=1)
        )
    return EntryCite(
        insert_id=None if insert_id is None else str(insert_id),
        timestamp=ts if isinstance(ts, datetime) else None,
        revision=row.get(f"{prefix}revision") or None,
        log_name=log_name or None,
        url=url,
    )


def entry_cite(row: dict[str, Any], project: str | None, prefix: str = "") -> dict[str, Any]:
    """``entry_ref`` as JSON."""
    return entry_ref(row, project, prefix).as_dict()


def sources(store: Store, window: Window) -> list[dict[str, Any]]:
    """What was collected: ingest runs per source and their share of the window."""
    params = window.params()
    frame = run_named(store, "window_ingest_sources", params)
    cite = query_cite("window_ingest_sources", params)
    rows = []
    for row in frame.to_dicts():
        row["first_started"] = iso(row["first_started"])
        row["last_finished"] = iso(row["last_finished"])
        rows.append({**row, "cite": cite})
    return rows


def signature_summaries(
    counts: pl.DataFrame,
    cite: QueryCite,
    window: Window,
    catalog: Catalog,
    project: str | None,
    issues: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Per signature seen in the window: count, spread, first and last entries, a Logs link;
    ``counts`` are the analysis' hourly rows (``hour_service_signature_count``), aggregated here
    so the table and these rows are the same numbers."""
    known = {s.id: s for s in catalog.signatures}
    out = []
    for row in signature_totals(counts).to_dicts() if not counts.is_empty() else []:
        sig = known.get(row["signature"])
        query = sig.logging_filter() if sig else ""
        out.append(
            {
                "id": row["signature"],
                "title": sig.title if sig else "(not in the current catalog)",
                "level": sig.level if sig else None,
                "issues": (issues or {}).get(row["signature"], []),
                "count": row["n"],
                "services": list(row["services"]),
                "revisions": row["revisions"],
                "instances": row["instances"],
                "first_seen": iso(row["first_seen"]),
                "last_seen": iso(row["last_seen"]),
                "first": entry_cite(row, project, "first_"),
                "last": entry_cite(row, project, "last_"),
                "catalog_versions": list(row["catalog_versions"]),
                "logging_filter": query,
                "logs_url": (
                    logs_explorer_url(query, window.since, window.until, project) if query else None
                ),
                "cite": cite.as_dict(),
            }
        )
    return out


def evidence_line(row: dict[str, Any], project: str | None) -> dict[str, Any]:
    """One log line as evidence: when, where, which signature, what it said."""
    return {
        "timestamp": iso(row["timestamp"]),
        "insert_id": row["insert_id"],
        "service": row.get("service"),
        "revision": row.get("revision") or None,
        "instance_id": row.get("instance_id"),
        "severity": row.get("severity"),
        "signature": row.get("signature"),
        "message": row.get("message") or "",
        "cite": entry_cite(row, project),
    }


def signature_examples(
    store: Store, window: Window, project: str | None, per_signature: int = EXAMPLES_PER_SIGNATURE
) -> dict[str, list[dict[str, Any]]]:
    """Representative lines per signature: the first ones and the last one in the window."""
    params = {**window.params(), "per_signature": per_signature}
    frame = run_named(store, "window_signature_examples", params)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in frame.to_dicts():
        grouped.setdefault(row["signature"], []).append(evidence_line(row, project))
    return grouped


# What each kind of deploy marker means (forensics.incidents.deploys), for one-line labels.
_DEPLOY_KINDS = {
    "revision": "Rollout of {revision} on {service}",
    "traffic": "Traffic update on {service} (still {revision})",
    "failed": "Failed rollout of {revision} on {service} (never Ready)",
    "call": "Deploy call on {service}; its outcome is not in the logs",
    "first-seen": "Revision {revision} of {service} first seen in the logs",
    "connector": "VPC connector {service} changed",
}


def deploy_label(marker: dict[str, Any]) -> str:
    """One line for a deploy marker, by its kind."""
    text = _DEPLOY_KINDS.get(str(marker.get("kind")), "Deploy of {revision} on {service}")
    return text.format(revision=marker.get("revision") or "?", service=marker.get("service") or "?")


def data_gaps(store: Store, window: Window) -> list[dict[str, Any]]:
    """Sources that could not be collected in the window: the report is incomplete there."""
    params = window.params()
    cite = query_cite("window_source_gaps", params)
    return [
        {**row, "cite": cite} for row in frame_rows(run_named(store, "window_source_gaps", params))
    ]


def unknown_templates(templates: Any, window: Window, project: str | None) -> list[dict[str, Any]]:
    """Unexplained error templates, each citing its example entry (linked over the window)."""
    out = []
    for row in frame_rows(templates) if isinstance(templates, pl.DataFrame) else templates or []:
        example = row.get("example_insert_id")
        cite: dict[str, Any] = {"insert_id": example}
        if example:
            cite["url"] = logs_explorer_url(
                entry_filter(str(example)), window.since, window.until, project
            )
        out.append({**row, "cite": cite})
    return out


def frame_rows(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
    """A polars frame (or None) as JSON-ready rows with ISO times."""
    if frame is None or frame.is_empty():
        return []
    return [
        {k: iso(v) if isinstance(v, datetime) else v for k, v in r.items()}
        for r in frame.to_dicts()
    ]
