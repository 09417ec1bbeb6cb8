"""Typed report facts: postmortem timelines, impact and chart series, each with its evidence.

These are the facts only reports show. ``forensics.report.model.report_facts`` builds one
``ReportFacts`` per analysis model (``AnalysisModel.report``); Markdown, HTML and the JSON report
render its ``as_dict()`` (forensics.report.assemble), so the numbers are computed in one place.
Every fact cites what it rests on: an entry (``EntryCite``: insert_id, timestamp, revision) or a
named query with its parameters (``QueryCite``: `forensics query NAME` re-runs it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Affected",
    "ChartData",
    "Cite",
    "EntryCite",
    "FailedStarts",
    "Impact",
    "Lane",
    "MetricSeries",
    "Peak",
    "Postmortem",
    "QueryCite",
    "ReportFacts",
    "ReportIncident",
    "RequestPoint",
    "TimelineEvent",
    "iso",
]


def iso(value: Any) -> str | None:
    """A datetime as ISO 8601 UTC with a Z (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


@dataclass(frozen=True)
class QueryCite:
    """A fact computed by a named query (queries/NAME.sql) with these parameters."""

    query: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "params": {k: iso(v) for k, v in sorted(self.params.items())}}


@dataclass(frozen=True)
class EntryCite:
    """A fact read off one log entry: its identity, revision, and a Logs Explorer link."""

    insert_id: str | None
    timestamp: datetime | None
    revision: str | None = None
    log_name: str | None = None
    url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "insert_id": self.insert_id,
            "timestamp": iso(self.timestamp),
            "revision": self.revision,
        }
        if self.log_name:
            out["log_name"] = self.log_name
        if self.url:
            out["url"] = self.url
        return out


Cite = QueryCite | EntryCite


@dataclass(frozen=True)
class TimelineEvent:
    """One moment of a postmortem timeline (first signal, detection, impact, deploy, ...)."""

    time: datetime | None
    kind: str
    label: str
    cite: Cite
    revision: str | None = None  # deploys and mitigations: the revision rolled out
    incident: str | None = None  # the window timeline: "incident N"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": iso(self.time),
            "kind": self.kind,
            "label": self.label,
            "cite": self.cite.as_dict(),
        }
        if self.kind in ("deploy", "mitigation"):
            out["revision"] = self.revision
        if self.incident is not None:
            out["incident"] = self.incident
        return out


@dataclass(frozen=True)
class Peak:
    """The minute with the highest 5xx ratio (complete denominators only)."""

    minute: datetime
    service: str
    ratio: float
    failed: int
    requests: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "minute": iso(self.minute),
            "service": self.service,
            "ratio": self.ratio,
            "failed": self.failed,
            "requests": self.requests,
        }


@dataclass(frozen=True)
class FailedStarts:
    """Instances that did not come up (entries of the failed-start signatures)."""

    instances: int
    entries: int
    signatures: tuple[str, ...]
    cite: QueryCite

    def as_dict(self) -> dict[str, Any]:
        return {
            "instances": self.instances,
            "entries": self.entries,
            "signatures": list(self.signatures),
            "cite": self.cite.as_dict(),
        }


@dataclass(frozen=True)
class Affected:
    """What the scope's matches touched."""

    matches: int
    services: tuple[str, ...]
    revisions: tuple[str, ...]
    instances: int
    cite: QueryCite

    def as_dict(self) -> dict[str, Any]:
        return {
            "matches": self.matches,
            "services": list(self.services),
            "revisions": list(self.revisions),
            "instances": self.instances,
            "cite": self.cite.as_dict(),
        }


@dataclass(frozen=True)
class Impact:
    """Failed requests over a scope, and the ratio only over a complete denominator.

    ``requests`` and ``failed_ratio`` are None when no complete request count covers the
    scope; ``denominator`` then says why (e.g. request logs pulled with pushdown).
    ``source`` names where the denominator came from: "request_count metrics (Cloud
    Monitoring)", "request logs, pulled in full", "request logs of a file ingest shown
    complete (...)", or "none: no complete denominator".
    """

    source: str
    requests: int | None
    failed_requests: int
    cite: QueryCite
    services: tuple[str, ...] = ()
    failed_ratio: float | None = None
    impact_minutes: int = 0
    denominator: str | None = None
    peak: Peak | None = None
    failed_starts: FailedStarts | None = None
    affected: Affected | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "services": list(self.services),
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "failed_ratio": self.failed_ratio,
            "impact_minutes": self.impact_minutes,
            "denominator": self.denominator,
            "cite": self.cite.as_dict(),
        }
        if self.peak is not None:
            out["peak"] = self.peak.as_dict()
        if self.failed_starts is not None:
            out["failed_starts"] = self.failed_starts.as_dict()
        if self.affected is not None:
            out["affected"] = self.affected.as_dict()
        return out


@dataclass(frozen=True)
class Postmortem:
    """One scope's timeline (an incident, or the whole window) and its impact."""

    events: tuple[TimelineEvent, ...]
    deploys_not_listed: int  # deploys near it beyond the ones listed (a wide fleet)
    ongoing: bool
    first_signal: datetime | None
    resolved_at: datetime | None
    started: datetime | None
    duration: str | None
    impact: Impact

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": [e.as_dict() for e in self.events],
            "deploys_not_listed": self.deploys_not_listed,
            "ongoing": self.ongoing,
            "first_signal": iso(self.first_signal),
            "resolved_at": iso(self.resolved_at),
            "started": iso(self.started),
            "duration": self.duration,
            "impact": self.impact.as_dict(),
        }


@dataclass(frozen=True)
class Lane:
    """One service drawn in the chart, with its matches per signature."""

    service: str
    total: int
    signatures: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "total": self.total, "signatures": dict(self.signatures)}


@dataclass(frozen=True)
class RequestPoint:
    """Requests and 5xx of one service in one chart bucket; None where there is no data (a
    gap) or no complete denominator (no ratio)."""

    bucket: datetime
    service: str
    requests: int | None
    failed: int | None
    ratio: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": iso(self.bucket),
            "service": self.service,
            "requests": self.requests,
            "failed": self.failed,
            "ratio": self.ratio,
        }


@dataclass(frozen=True)
class MetricSeries:
    """A metric overlay over one service's lane: peak per bucket."""

    service: str
    metric_type: str
    label: str
    scale_max: float
    peak: float
    points: tuple[tuple[datetime, float], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "metric_type": self.metric_type,
            "label": self.label,
            "scale_max": self.scale_max,
            "peak": self.peak,
            "points": [[iso(t), v] for t, v in self.points],
        }


@dataclass(frozen=True)
class ChartData:
    """The timeline chart's series: matches, request outcomes and metric overlays."""

    since: datetime
    until: datetime
    bucket_s: int
    lanes: tuple[Lane, ...]
    counts: tuple[dict[str, Any], ...]  # bucket, service, signature, n
    requests: tuple[RequestPoint, ...]
    requests_source: str
    requests_incomplete: dict[str, str]
    metrics: tuple[MetricSeries, ...]
    cite: tuple[QueryCite, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "bucket_s": self.bucket_s,
            "lanes": [lane.as_dict() for lane in self.lanes],
            "counts": [{**c, "bucket": iso(c["bucket"])} for c in self.counts],
            "requests": [p.as_dict() for p in self.requests],
            "requests_source": self.requests_source,
            "requests_incomplete": dict(self.requests_incomplete),
            "metrics": [m.as_dict() for m in self.metrics],
            "cite": [c.as_dict() for c in self.cite],
        }


@dataclass(frozen=True)
class ReportIncident:
    """An incident of the analysis as the report numbers and cites it, with its postmortem."""

    number: int
    incident: dict[str, Any]  # the analysis' incident (Incident.as_dict)
    evidence: tuple[dict[str, Any], ...]  # its evidence lines, each with an entry cite
    chain_links: tuple[dict[str, Any], ...]
    postmortem: Postmortem

    @property
    def id(self) -> str:
        return str(self.incident.get("id"))

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.incident,
            "number": self.number,
            "evidence": list(self.evidence),
            "chain_links": list(self.chain_links),
            "postmortem": self.postmortem.as_dict(),
        }


@dataclass(frozen=True)
class ReportFacts:
    """Everything a report shows beyond the analysis, read from the store once."""

    project: str | None
    catalog: dict[str, Any]
    sources: tuple[dict[str, Any], ...]
    data_gaps: tuple[dict[str, Any], ...]
    incidents: tuple[ReportIncident, ...]
    timeline: tuple[TimelineEvent, ...]
    impact: Impact
    signatures: tuple[dict[str, Any], ...]
    unknown_templates: tuple[dict[str, Any], ...]
    deploys: tuple[dict[str, Any], ...]  # the listed ones (at most REPORT_DEPLOYS)
    deploys_summary: dict[str, Any]  # all of them, counted by kind and service
    drift: tuple[dict[str, Any], ...]
    drift_summary: dict[str, Any]
    chart: ChartData
    known_signatures: dict[str, dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "catalog": self.catalog,
            "sources": list(self.sources),
            "data_gaps": list(self.data_gaps),
            "incidents": [i.as_dict() for i in self.incidents],
            "timeline": [e.as_dict() for e in self.timeline],
            "impact": self.impact.as_dict(),
            "signatures": list(self.signatures),
            "unknown_templates": list(self.unknown_templates),
            "deploys": list(self.deploys),
            "deploys_summary": self.deploys_summary,
            "drift": list(self.drift),
            "drift_summary": self.drift_summary,
            "chart": self.chart.as_dict(),
            "known_signatures": self.known_signatures,
        }
