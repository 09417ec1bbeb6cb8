"""The results of the incidents stage as dataclasses, each with ``as_dict()`` for stable JSON.

The JSON shape is a contract that reports and scheduled jobs rely on: keys are only ever added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

__all__ = [
    "STATUSES",
    "Check",
    "DeployMarker",
    "Drift",
    "EvidenceLine",
    "Incident",
    "IssueStatus",
    "as_columns",
    "from_columns",
    "iso",
    "jsonable",
]

# In the order a person should read them: what is burning first.
STATUSES = ("REGRESSED", "ACTIVE", "QUIET", "RESOLVED", "NO_DATA")


_Row = TypeVar("_Row")


def as_columns(cls: type[_Row], rows: Sequence[_Row]) -> tuple[list[Any], ...]:
    """Dataclass ``rows`` as one list per field, in field order (``from_columns`` makes them
    again): a pickle of lists of values, not of an object and its field names per row. O(n)."""
    return tuple([getattr(row, f.name) for row in rows] for f in fields(cls))  # type: ignore[arg-type]


def from_columns(cls: type[_Row], columns: tuple[list[Any], ...]) -> list[_Row]:
    """The rows ``as_columns`` listed. O(n)."""
    return [cls(*values) for values in zip(*columns, strict=True)]


def iso(value: datetime | None) -> str | None:
    """RFC 3339 UTC with a Z, or None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


_SCALARS = frozenset({str, int, float, bool})


def jsonable(value: Any) -> Any:
    """Nested dicts and lists with every datetime as RFC 3339 text (json.dumps-ready)."""
    if value is None or type(value) in _SCALARS:  # most values: a wide fleet has 100,000s
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class EvidenceLine:
    """One log entry cited as evidence: enough to find it again in Logs Explorer."""

    insert_id: str
    timestamp: datetime
    revision: str | None
    signature: str
    message: str
    instance_id: str | None = None
    log_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "insert_id": self.insert_id,
            "timestamp": iso(self.timestamp),
            "revision": self.revision,
            "signature": self.signature,
            "message": self.message,
            "instance_id": self.instance_id,
            "log_name": self.log_name,
        }


@dataclass
class IssueStatus:
    """A tracked issue's status computed from evidence, next to what is claimed about it."""

    id: str
    title: str
    url: str
    status: str
    claimed_status: str
    contradiction: bool
    evidence: dict[str, int]
    first_seen: datetime | None
    last_seen: datetime | None
    first_seen_revision: str | None
    last_seen_revision: str | None
    basis: str
    evidence_total: int = 0
    fix: dict[str, Any] | None = None
    after_fix: dict[str, Any] | None = None
    incidents: list[str] = field(default_factory=list)
    data_gaps: list[dict[str, Any]] = field(default_factory=list)
    claim_source: str = ""
    # Where the first / last evidence line was logged: its own revision, else its service.
    first_seen_place: str | None = None
    last_seen_place: str | None = None
    # True when all the evidence came before a claimed fix that too little traffic followed:
    # ACTIVE until the fix, which is what the claim says, so no contradiction.
    active_before_fix: bool = False
    # Set when the first sighting is only the first in what was read, from this time on (a
    # drift issue: configuration changes are read in the look-back only); None: the store's.
    first_seen_since: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "status": self.status,
            "claimed_status": self.claimed_status,
            "contradiction": self.contradiction,
            "evidence": dict(self.evidence),
            "evidence_in_window": sum(self.evidence.values()),
            "evidence_total": self.evidence_total,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "first_seen_revision": self.first_seen_revision,
            "last_seen_revision": self.last_seen_revision,
            "basis": self.basis,
            "fix": jsonable(self.fix),
            "after_fix": jsonable(self.after_fix),
            "incidents": list(self.incidents),
            "data_gaps": jsonable(self.data_gaps),
            "claim_source": self.claim_source,
            "first_seen_place": self.first_seen_place,
            "last_seen_place": self.last_seen_place,
            "active_before_fix": self.active_before_fix,
            "first_seen_since": iso(self.first_seen_since),
        }


@dataclass
class Incident:
    """Matches and signals of one service grouped in time, with their causal chain and cause."""

    id: str
    service: str
    start: datetime
    end: datetime
    peak: datetime
    peak_per_minute: int
    chain: list[str]
    issues: list[str]
    signatures: dict[str, int]
    revisions: list[str]
    instances: list[str]
    evidence: list[EvidenceLine]
    cause: str
    root_cause: dict[str, Any]
    links: list[dict[str, Any]] = field(default_factory=list)
    attribution: dict[str, dict[str, int]] = field(default_factory=dict)
    signals: list[dict[str, Any]] = field(default_factory=list)
    related_services: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": iso(self.start),
            "end": iso(self.end),
            "peak": iso(self.peak),
            "peak_per_minute": self.peak_per_minute,
            "service": self.service,
            "chain": list(self.chain),
            "issues": list(self.issues),
            "signatures": dict(self.signatures),
            "revisions": list(self.revisions),
            "instances": list(self.instances),
            "evidence": [e.as_dict() for e in self.evidence],
            "cause": self.cause,
            "root_cause": dict(self.root_cause),
            "links": jsonable(self.links),
            "attribution": {k: dict(v) for k, v in self.attribution.items()},
            "signals": jsonable(self.signals),
            "related_services": list(self.related_services),
        }


@dataclass
class DeployMarker:
    """A Cloud Run rollout or configuration change, from the audit logs."""

    time: datetime
    service: str
    kind: str  # revision | traffic | failed | call | first-seen | connector
    method: str
    revision: str | None
    previous_revision: str | None
    ready_at: datetime | None
    ready: bool | None
    principal: str | None
    insert_id: str
    changes: list[str] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": iso(self.time),
            "service": self.service,
            "kind": self.kind,
            "method": self.method,
            "revision": self.revision,
            "previous_revision": self.previous_revision,
            "ready_at": iso(self.ready_at),
            "ready": self.ready,
            "principal": self.principal,
            "insert_id": self.insert_id,
            "changes": list(self.changes),
            "message": self.message,
        }


@dataclass
class Drift:
    """What changed between two consecutive configurations of one service (or connector)."""

    service: str
    time: datetime
    from_revision: str | None
    to_revision: str | None
    changes: list[dict[str, Any]]
    insert_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "time": iso(self.time),
            "from_revision": self.from_revision,
            "to_revision": self.to_revision,
            # jsonable inlined for the scalars most values are (a wide fleet: 60,000 changes)
            "changes": [
                {k: v if v is None or type(v) in _SCALARS else jsonable(v) for k, v in c.items()}
                for c in self.changes
            ],
            "insert_id": self.insert_id,
        }


@dataclass
class Check:
    """One of the seeds' targets measured from the logs: pass, fail or no_data, with numbers."""

    id: str
    title: str
    target: str
    status: str  # pass | fail | no_data
    measured: str
    source: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "target": self.target,
            "status": self.status,
            "measured": self.measured,
            "source": self.source,
            "details": jsonable(self.details),
        }
