"""The analysis model of one window: every fact that any output shows, computed once.

``forensics.pipeline.build_model`` fills an ``AnalysisModel`` from the store; the terminal
(`analyze`, `issues`, `incidents`), ``--json``, the Markdown/HTML/JSON reports, snapshots
(``snapshot_state``) and watch/diff webhook payloads (made from snapshot states) all render
from it and read nothing else, so no two outputs can disagree. Each fact carries its evidence:
incidents and issues cite entries (insert_id, timestamp, revision); tables name the query that
computed them in ``cites``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from forensics.incidents.build import Analysis
from forensics.signatures.mining import Template
from forensics.timeutil import Window

if TYPE_CHECKING:
    from forensics.pipeline import Classification
    from forensics.report.records import ReportFacts
    from forensics.snapshots.model import Item, State

__all__ = ["ANALYSIS_SCHEMA", "TOP_ERRORS", "TOP_TEMPLATES", "AnalysisModel", "analyze_window"]

ANALYSIS_SCHEMA = "forensics.analysis/1"
# The hourly signature rows `analyze --json` shows; the model keeps the query's other columns
# (first/last entries, revisions, instances) for the report's per-signature rows.
HOURLY_COLUMNS = ("hour", "service", "signature", "n", "first_seen", "last_seen", "issues")
TOP_ERRORS = 15
TOP_TEMPLATES = 10


def volume_pivot(volume: pl.DataFrame) -> pl.DataFrame:
    """Hour × service rows with one column per severity present (ordered by level)."""
    if volume.is_empty():
        return volume
    order = (
        volume.select("severity", "severity_number")
        .unique()
        .sort("severity_number")["severity"]
        .to_list()
    )
    pivot = volume.pivot(on="severity", index=["hour", "service"], values="n").fill_null(0)
    pivot = pivot.select(["hour", "service", *order])
    return pivot.with_columns(pl.sum_horizontal(order).alias("total")).sort("hour", "service")


def _stamp(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


@dataclass
class AnalysisModel:
    """Everything known about one window, typed; see the module docstring.

    ``incidents`` holds issue statuses (with the sentence that justifies each), incidents with
    their causes, chains, attribution per symptom and cited evidence lines, deploys, drift and
    checks. ``signature_counts`` (hour × service × primary signature) lists for each row the
    issues its lines were attributed to. ``report`` holds what only reports show, typed
    (forensics.report.records.ReportFacts: postmortems, impact, chart series, per-signature
    examples, each citing its evidence), built when asked for.
    """

    window: Window
    catalog_version: str
    classification: Classification
    incidents: Analysis
    entries_in_window: int
    volume: pl.DataFrame
    top_errors: pl.DataFrame
    store_range: pl.DataFrame
    signature_counts: pl.DataFrame
    signature_services: pl.DataFrame
    templates: list[Template]
    data_gaps: pl.DataFrame
    signals: pl.DataFrame
    cites: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: ReportFacts | None = None
    # analysis() is asked for by the terminal, the reports and --json: a wide fleet's thousands
    # of deploys are turned into dicts once (the model is not changed after it is built)
    _analysis: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def analysis(self) -> dict[str, Any]:
        """The analysis as `analyze --json` gives it (frames kept as frames for renderers)."""
        if self._analysis is None:
            self._analysis = self._build_analysis()
        return self._analysis

    def __getstate__(self) -> dict[str, Any]:
        """What a kept model (forensics.model_cache) pickles: not ``analysis()``'s dicts, made
        again from the same facts when asked (a wide fleet's 20,000 deploys and drift rows were
        pickled twice, as objects and as dicts: 26 MB, 0.4 CPU s, against 0.27 to remake)."""
        return {**self.__dict__, "_analysis": None}

    def terminal_analysis(self, deploys_shown: int) -> dict[str, Any]:
        """analysis() as a terminal shows it: only the deploys a bounded table lists
        (forensics.incidents.digest.shown: every failed one first, then the latest) with their
        ``deploys_total``, and no drift rows (the terminal lists none), so a wide fleet's
        20,000 markers are not all made into dicts to show 200; analysis() once it is made.
        O(d) for d deploys."""
        if self._analysis is not None:
            return self._analysis
        from forensics.incidents.digest import shown

        deploys = self.incidents.deploys
        view = replace(self.incidents, deploys=shown(deploys, deploys_shown), drift=[])
        out = self._build_analysis(view)
        del out["drift"]  # not an empty list: a reader of this view must not take it for none
        out["deploys_total"] = len(deploys)
        return out

    def report_analysis(self) -> dict[str, Any]:
        """analysis() as the reports read it: without the deploy markers and drift rows, which
        the report facts take from the markers themselves (forensics.report.model.report_facts
        ``markers``: dicts of the ones a report lists or that are near an incident only), so a
        wide fleet's 20,000 of each are not made into dicts for it; analysis() once it is
        made. O(issues + incidents)."""
        if self._analysis is not None:
            return self._analysis
        out = self._build_analysis(replace(self.incidents, deploys=[], drift=[]))
        del out["deploys"], out["drift"]  # absent, not empty: a reader must not take it for none
        return out

    def _build_analysis(self, incidents: Analysis | None = None) -> dict[str, Any]:
        incidents = incidents or self.incidents
        notes = dict(incidents.notes)
        notes["classification"] = self.classification.as_dict()
        return {
            "schema": ANALYSIS_SCHEMA,
            **incidents.as_dict(),
            "analysis_notes": notes,
            "window": self.window.as_dict(),
            "entries_in_window": self.entries_in_window,
            "volume": self.volume,
            "top_errors": self.top_errors,
            "store_range": self.store_range,
            "catalog_version": self.catalog_version,
            "signatures": self.signature_counts.select(
                [c for c in HOURLY_COLUMNS if c in self.signature_counts.columns]
            ),
            "unknown_templates": [t.as_dict() for t in self.templates[:TOP_TEMPLATES]],
            # Sources the collectors could not read: the analysis is incomplete there.
            "data_gaps": self.data_gaps,
            # Metric threshold crossings (memory, CPU, Cloud SQL connections, VPC connector).
            "signals": self.signals,
            "cites": self.cites,
        }

    def signature_totals(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(signature, service) -> (primary entries in the window, entries since the build's
        ``recent_since``): what watch's spike check compares, from the hourly counts."""
        from forensics.signatures.summary import service_signature_counts

        return service_signature_counts(self.signature_counts)

    def report_context(
        self, *, now: datetime, version: str | None = None, redact_emails: bool = False
    ) -> dict[str, Any]:
        """The report context (Markdown, HTML and JSON render it) from this model alone."""
        from forensics import __version__
        from forensics.report.assemble import assemble_report

        if self.report is None:
            raise ValueError("this model was built without report facts (build_model(report=True))")
        return assemble_report(
            self.report_analysis(),
            self.report,
            self.window,
            now=now,
            version=version or __version__,
            redact_emails=redact_emails,
        )

    def snapshot_state(self, label: str) -> State:
        """What a snapshot or a watch run records: signature, template and issue items."""
        from forensics.snapshots.model import Item, State

        items = signature_items(self.signature_services)
        items += [
            Item(
                kind="template",
                key=t.id,
                service=None,
                count=t.count,
                details={
                    "template": t.template,
                    "services": t.services,
                    "first_seen": _stamp(t.first_seen),
                    "last_seen": _stamp(t.last_seen),
                    "example_insert_id": t.example_insert_id,
                    # a template's text (so its id) depends on the variants a day held
                    "members": sorted(t.members or [t.template]),
                },
            )
            for t in self.templates
        ]
        items += [
            Item(
                kind="issue",
                key=issue["id"],
                service=None,
                count=int(issue.get("evidence_in_window") or 0),
                status=issue["status"],
                details={key: issue.get(key) for key in ISSUE_DETAILS},
            )
            for issue in (s.as_dict() for s in self.incidents.issues)
        ]
        gaps = [  # clipped to the window: a snapshot speaks of its own period only
            {
                "source": row["source"],
                "start": _stamp(max(row["start"], self.window.since)),
                "end": _stamp(min(row["end"], self.window.until)),
                "reason": row["reason"],
            }
            for row in self.data_gaps.iter_rows(named=True)
        ]
        state = State(
            label=label,
            entries=self.entries_in_window,
            gaps=gaps,
            catalog_version=self.catalog_version,
        )
        state.items = items
        state.recorded = frozenset({"signature", "template", "issue"})
        note = self.classification.note()
        if note:
            state.notes.append(note)
        return state


def signature_items(frame: pl.DataFrame) -> list[Item]:
    """Snapshot items from window_signature_service_counts rows: one per (signature, service)."""
    from forensics.snapshots.model import Item

    return [
        Item(
            kind="signature",
            key=row["signature"],
            service=row["service"],
            count=int(row["n"]),
            details={
                "primary": int(row["n_primary"]),
                "first_seen": _stamp(row["first_seen"]),
                "last_seen": _stamp(row["last_seen"]),
                "example_insert_id": row["example_insert_id"],
            },
        )
        for row in frame.iter_rows(named=True)
    ]


ISSUE_DETAILS = ("title", "claimed_status", "contradiction", "basis", "evidence", "first_seen",
                 "last_seen", "url")  # fmt: skip


def analyze_window(store: Any, window: Window, *, registry: Any = None) -> dict[str, Any]:
    """The analysis of ``window`` as `analyze --json` gives it (see forensics.pipeline).

    Reads the store only: runs not classified with the current catalog are classified in
    memory for this answer (see ``forensics.pipeline.prepare_reading``).
    """
    from forensics.pipeline import Sources, build_model

    sources = Sources.load() if registry is None else Sources.with_registry(registry)
    return build_model(store, window, sources).analysis()
