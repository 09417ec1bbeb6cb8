"""Build the incidents stage's result for one window: issue statuses, incidents, deploys, checks.

Usage:
  ``build_analysis(store, window, registry=None)`` returns the stable JSON-ready dict that
  ``forensics analyze`` merges into its output and reports and scheduled jobs read;
  ``analyze_incidents`` returns the same content as typed dataclasses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forensics.incidents.checks import run_checks
from forensics.incidents.classified import current_catalog
from forensics.incidents.correlate import IncidentContext, build_incidents
from forensics.incidents.coverage import window_coverage
from forensics.incidents.deploys import deploys_and_drift
from forensics.incidents.evidence import attribute_symptoms, issue_evidence, load_matches
from forensics.incidents.lookback import Extension, extensions, look_back
from forensics.incidents.model import (
    Check,
    DeployMarker,
    Drift,
    Incident,
    IssueStatus,
    as_columns,
    from_columns,
)
from forensics.incidents.registry import Registry, load_registry
from forensics.incidents.revisions import signature_revisions
from forensics.incidents.sightings import sightings
from forensics.incidents.status import IssueEvidence, compute_statuses, traffic_ledger
from forensics.incidents.traffic import TrafficLedger
from forensics.signatures import Catalog
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["Analysis", "analyze_incidents", "build_analysis", "packed_frame", "unpacked_frame"]


def packed_frame(frame: pl.DataFrame) -> bytes:
    """``frame`` as zstd-compressed Arrow IPC: its schema kept exactly (unpacked_frame)."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="zstd")
    return buffer.getvalue()


def unpacked_frame(data: bytes) -> pl.DataFrame:
    """The frame packed_frame made."""
    return pl.read_ipc(io.BytesIO(data))


_ROW_SCHEMA: dict[str, pl.DataType] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "signature": pl.String(),
    "service": pl.String(),
    "revision": pl.String(),
}


@dataclass
class Analysis:
    """Everything the incidents stage found for one window."""

    window: Window
    issues: list[IssueStatus]
    incidents: list[Incident] = field(default_factory=list)
    deploys: list[DeployMarker] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    signature_revisions: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    # One row per (issue, evidence line) in the window: the attribution every per-issue count
    # uses (a symptom belongs to an issue only through its attributed cause). Not in as_dict.
    evidence: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)
    # The traffic read once for statuses and checks; the report's impact sums it too.
    traffic: TrafficLedger | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """What a kept model (forensics.model_cache) pickles: the deploys and drift as one
        list per field (a wide fleet's 20,000 of each pickle in a third less time than as
        objects, each with its dict of field names), and the evidence as compressed Arrow IPC
        (its strings repeat row after row: an error-dense day's 330,000 rows pickled as 146 MB
        in 0.39 CPU s and loaded in 0.86; as zstd IPC 6.4 MB, 0.19 and 0.11). O(d + e) for d
        deploys and drift rows and e evidence rows."""
        return {
            **self.__dict__,
            "deploys": as_columns(DeployMarker, self.deploys),
            "drift": as_columns(Drift, self.drift),
            "evidence": packed_frame(self.evidence),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(
            state,
            deploys=from_columns(DeployMarker, state["deploys"]),
            drift=from_columns(Drift, state["drift"]),
            evidence=unpacked_frame(state["evidence"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape (keys are only ever added)."""
        return {
            "window": self.window.as_dict(),
            "issues": [s.as_dict() for s in self.issues],
            "incidents": [i.as_dict() for i in self.incidents],
            "deploys": [d.as_dict() for d in self.deploys],
            "drift": [d.as_dict() for d in self.drift],
            "checks": [c.as_dict() for c in self.checks],
            "signature_revisions": [dict(r) for r in self.signature_revisions],
            "analysis_notes": dict(self.notes),
        }


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in _ROW_SCHEMA.items()
    )


def _drift_rows(drift: list[Drift]) -> pl.DataFrame:
    """Evidence rows of configuration drift: one per change but a new image (an ordinary
    deploy), its signature ``drift/<kind>``, in ``drift``'s order. Made once per analysis
    and shared by every drift issue (a wide fleet has 20,000 drift rows). O(changes)."""
    times: list[Any] = []
    signatures: list[str] = []
    services: list[str] = []
    revisions: list[str | None] = []
    for d in drift:
        for c in d.changes:
            kind = c["kind"]
            if kind != "image":
                times.append(d.time)
                signatures.append(f"drift/{kind}")
                services.append(d.service)
                revisions.append(d.to_revision)
    columns = {"timestamp": times, "signature": signatures, "service": services}
    return pl.DataFrame({**columns, "revision": revisions}, schema=_ROW_SCHEMA)


def _issue_rows(
    issue_id: str,
    registry: Registry,
    evidence: pl.DataFrame,
    signals: pl.DataFrame,
    drift: pl.DataFrame,
    extension: Extension | None = None,
) -> pl.DataFrame:
    """The issue's evidence rows; ``extension`` adds those between its fix and the baseline.
    ``drift``: _drift_rows of the look-back's drift. O(rows log rows) for the issue's rows."""
    issue = registry.get(issue_id)
    parts = [_rows(evidence.filter(pl.col("issue") == issue_id))]
    if extension is not None:
        if not extension.evidence.is_empty():
            parts.append(_rows(extension.evidence))
        if issue.drift and extension.drift:
            drift = pl.concat([_drift_rows(extension.drift), drift])
    if issue.signals and not signals.is_empty():
        hits = signals.filter(pl.col("signal").is_in(list(issue.signals)))
        parts.append(_rows(hits.rename({"start": "timestamp", "signal": "signature"})))
    if issue.drift and not drift.is_empty():
        parts.append(drift)
    return pl.concat(parts).sort("timestamp", nulls_last=True)


def analyze_incidents(
    store: Store,
    window: Window,
    *,
    registry: Registry | None = None,
    catalog: Catalog | None = None,
) -> Analysis:
    """Statuses, incidents, deploys and checks; reads the store, never writes it (runs not
    classified with ``catalog`` are classified in memory: forensics.pipeline.prepare_reading)."""
    from forensics.pipeline import prepare_reading

    registry = registry or load_registry()
    catalog = catalog or current_catalog()
    classification = prepare_reading(store, catalog)
    ranks = {s.id: i for i, s in enumerate(catalog.signatures)}
    # every store-wide stage reads the window and its baseline look-back, never all history;
    # a claimed fix before the baseline extends its own issue's history alone (lookback.py)
    history = look_back(store, window, registry)
    matches = load_matches(store, window.until, history.start, window.since)
    symptoms = attribute_symptoms(store, window.until, registry, history.start)
    evidence = issue_evidence(matches, symptoms, registry, ranks)
    signals = run_named(store, "store_signals", history.params())  # a small table
    deploys, drift = deploys_and_drift(store, window.until, history.start)
    extended = extensions(store, registry, history, ranks)
    ctx = IncidentContext(
        registry,
        ranks,
        {s.id: s.title for s in catalog.signatures},
        matches,
        symptoms,
        evidence,
        signals,
    )
    incidents = build_incidents(store, window, ctx)
    drifted = _drift_rows(drift if any(i.drift for i in registry.issues) else [])
    per_issue = {
        i.id: IssueEvidence(
            i,
            _issue_rows(i.id, registry, evidence, signals, drifted, extended.get(i.id)),
            [inc.id for inc in incidents if i.id in inc.issues],
        )
        for i in registry.issues
        if not i.meta
    }
    coverage = window_coverage(store, window.since, window.until)
    ledger = traffic_ledger(store, window, history)  # the traffic every stage reads, once
    found = sightings(store, registry, catalog.version, window.until)  # first seen: O(runs)
    statuses = compute_statuses(
        store, registry, per_issue, window, coverage, history, found.issues, ledger
    )
    notes = {
        "catalog_version": catalog.version,
        "registry_files": list(registry.files),
        "classified_ingest_runs": list(classification.stale_runs),
        "read_only_store": store.read_only,
        "look_back": history.as_dict(),
    }
    in_window = window.since.__le__
    return Analysis(
        window,
        statuses,
        incidents,
        deploys=[d for d in deploys if in_window(d.time)],
        drift=[d for d in drift if in_window(d.time)],
        checks=run_checks(store, window, registry.settings, ledger),
        signature_revisions=signature_revisions(matches, window, found.primary_first),
        notes=notes,
        evidence=evidence.filter(
            (pl.col("timestamp") >= window.since) & (pl.col("timestamp") < window.until)
        ),
        traffic=ledger,
    )


def build_analysis(
    store: Store, window: Window, *, registry: Registry | None = None
) -> dict[str, Any]:
    """The incidents stage for ``window`` as the stable JSON-ready dict.

    Shape: ``{"window", "issues": [...], "incidents": [...], "deploys": [...], "drift": [...],
    "checks": [...], "signature_revisions": [...], "analysis_notes": {...}}``; issues come
    contradictions first. schemas/incidents.schema.json describes every key.

    Example:
        >>> from forensics.store import open_store
        >>> from forensics.timeutil import window_ending
        >>> with open_store(":memory:") as store:
        ...     result = build_analysis(store, window_ending(24, "2025-09-17T00:00:00Z"))
        >>> [i["status"] for i in result["issues"]][:2]
        ['NO_DATA', 'NO_DATA']
    """
    return analyze_incidents(store, window, registry=registry).as_dict()
