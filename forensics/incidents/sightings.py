"""Each tracked issue's first and last sighting in the whole store, without reading its entries.

An analysis reads the window and a bounded look-back (forensics.incidents.lookback), but
"first seen" means the first sighting ever. ``signature_spans(version)`` is a per-run derived
table (forensics.derived): per ingest run and signature of the catalog, the matches' count and
the first and last one (time, insert_id, service, revision), written when classification runs
(forensics.pipeline.classify_pending) and computed from the matches and their entries for a
run without current rows (an older store, a catalog changed since, a run classified for this
answer only), so the answer never depends on which path a run took.

``sightings(store, registry, catalog_version, until)`` gives each issue's first sighting before
``until``: the first of its signatures' matches (the rollup) and of its metric signals (the
signals table, a few rows per threshold crossing), and its last one when no later run spans
``until``. forensics.incidents.status takes the earlier of it and the look-back's first
evidence line, so there is one first sighting, computed here, and every renderer reads it.

What it cannot see: a symptom counts for an issue through an attributed cause, and the cause
is one of the issue's signatures' matches, so an attributed symptom is never the first
sighting, except one attributed through the boot look-ahead (``boot_lookahead_seconds``, a
minute) before its cause: before the look-back, that one is not looked for (attribution reads
entries). A drift issue's configuration changes are read from audit entries in the look-back
only: its status says from when (``IssueStatus.first_seen_since``).

Cost: O(runs x signatures) stored rows (plus, for runs without current rows, one hash join of
their entries with the matches); the signals table; and, only for an issue with no evidence in
the range read whose matches lie in a run spanning ``until`` (a window in the past), one scan
of signature_matches from that run's first match to ``until``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forensics.derived import WHERE_MARK, Derived, pending_runs
from forensics.incidents.registry import Registry, TrackedIssue
from forensics.store import Store

__all__ = [
    "Sighting",
    "Sightings",
    "StoreSightings",
    "last_before",
    "sightings",
    "signature_spans",
]

_VERSION = re.compile(r"^[0-9A-Za-z_.-]+$")
_LINE = "struct_pack(insert_id := m.insert_id, service := coalesce(m.service, "
_LINE += "e.resource_type, '(unknown)'), revision := m.revision)"


def signature_spans(catalog_version: str) -> Derived:
    """The per-run rollup of the matches of catalog ``catalog_version`` (its SQL names the
    version, so a run's rows are current for that catalog only). Cost of writing: one hash
    join of the new runs' entries (four key columns) with the matches."""
    if not _VERSION.match(catalog_version):
        raise ValueError(f"not a catalog version: {catalog_version!r}")
    key = '(m."timestamp", m.insert_id)'
    return Derived(
        "signature_spans",
        f"""
SELECT e.ingest_id, m.signature, m.is_primary, count(*) AS matches,
       min(m."timestamp") AS first_match, arg_min({_LINE}, {key}) AS first_line,
       max(m."timestamp") AS last_match, arg_max({_LINE}, {key}) AS last_line
FROM log_entries AS e
JOIN signature_matches AS m
  ON m."timestamp" = e."timestamp" AND m.log_name = e.log_name AND m.insert_id = e.insert_id
WHERE {WHERE_MARK} AND m.catalog_version = '{catalog_version}'
GROUP BY ALL""",
    )


@dataclass(frozen=True)
class Sighting:
    """One evidence line of an issue, as statuses show it: when and where."""

    timestamp: datetime
    service: str | None
    revision: str | None

    def row(self) -> dict[str, Any]:
        """As an evidence row (forensics.incidents.revisions.place reads it)."""
        return {"timestamp": self.timestamp, "service": self.service, "revision": self.revision}


@dataclass(frozen=True)
class Sightings:
    """An issue's first and last sighting before the analysis's end (None: none in the store).

    ``last`` is None also when a run spanning the end holds its last one (``last_from``: that
    run's first match of the issue; ``last_before`` finds it)."""

    first: Sighting | None = None
    last: Sighting | None = None
    last_from: datetime | None = None


def _earliest(*found: Sighting | None) -> Sighting | None:
    return min((s for s in found if s is not None), key=lambda s: s.timestamp, default=None)


def _latest(*found: Sighting | None) -> Sighting | None:
    return max((s for s in found if s is not None), key=lambda s: s.timestamp, default=None)


def _span_rows(store: Store, version: str, until: datetime) -> list[tuple[Any, ...]]:
    """Per signature: first line, last line of the runs ending before ``until``, the first
    match of the runs spanning it (their last line before it is not in the rollup), and the
    first line it is the primary match of."""
    derived = signature_spans(version)
    # every run current (the usual case): the stored rows alone, else the join of the others'
    # entries with every match is planned (its build side the matches: 0.03 CPU s at 10M)
    stored = f"SELECT * FROM signature_spans WHERE ingest_id IN ({derived.current_sql()})"
    spans = derived.scoped("true") if pending_runs(store, derived) else stored
    return store.conn.execute(
        f"""
        SELECT signature,
               min(first_match), arg_min(first_line, (first_match, first_line.insert_id)),
               max(last_match) FILTER (last_match < $until),
               arg_max(last_line, (last_match, last_line.insert_id)) FILTER (last_match < $until),
               min(first_match) FILTER (last_match >= $until),
               min(first_match) FILTER (is_primary),
               arg_min(first_line, (first_match, first_line.insert_id)) FILTER (is_primary)
        FROM ({spans})
        WHERE first_match < $until
        GROUP BY signature
        """,
        {"until": until},
    ).fetchall()


def _line(when: datetime | None, line: dict[str, Any] | None) -> Sighting | None:
    if when is None or line is None:
        return None
    return Sighting(when, line.get("service"), line.get("revision"))


@dataclass(frozen=True)
class StoreSightings:
    """What the store's rollup says before the analysis's end: each non-meta issue's sightings,
    and each signature's first line it is the primary match of (forensics.incidents.revisions
    reads it: a signature's first seen, like an issue's, is the store's)."""

    issues: dict[str, Sightings]
    primary_first: dict[str, Sighting]


def sightings(
    store: Store, registry: Registry, catalog_version: str, until: datetime
) -> StoreSightings:
    """Each non-meta issue's sightings before ``until`` and each signature's first primary
    match (see the module docstring). One read of the rollup, one of the signals table."""
    spans: dict[str, tuple[Sighting | None, Sighting | None, datetime | None]] = {}
    primary: dict[str, Sighting] = {}
    for signature, first, first_line, last, last_line, spanning, top, top_line in _span_rows(
        store, catalog_version, until
    ):
        spans[signature] = (_line(first, first_line), _line(last, last_line), spanning)
        if (seen := _line(top, top_line)) is not None:
            primary[signature] = seen
    signals: dict[str, tuple[Sighting, Sighting]] = {}
    for signal, first, first_service, last, last_service in store.conn.execute(
        'SELECT signal, min("start"), arg_min(service, "start"), max("start"), '
        'arg_max(service, "start") FROM signals WHERE "start" < $until GROUP BY signal',
        {"until": until},
    ).fetchall():
        signals[signal] = (Sighting(first, first_service, None), Sighting(last, last_service, None))
    issues = {i.id: _of(i, spans, signals) for i in registry.issues if not i.meta}
    return StoreSightings(issues, primary)


def _of(
    issue: TrackedIssue,
    spans: dict[str, tuple[Sighting | None, Sighting | None, datetime | None]],
    signals: dict[str, tuple[Sighting, Sighting]],
) -> Sightings:
    mine = [spans[s] for s in issue.signatures if s in spans]
    lit = [signals[s] for s in issue.signals if s in signals]  # a signal is seen at its start
    spanning = [s for _, _, s in mine if s is not None]
    return Sightings(
        first=_earliest(*(f for f, _, _ in mine), *(f for f, _ in lit)),
        last=_latest(*(last for _, last, _ in mine), *(last for _, last in lit)),
        last_from=min(spanning, default=None),
    )


def last_before(
    store: Store, issue: TrackedIssue, found: Sightings, until: datetime
) -> Sighting | None:
    """The issue's last sighting before ``until`` when a run spanning ``until`` may hold it:
    one scan of signature_matches over [that run's first match, until)."""
    if found.last_from is None:
        return found.last
    row = store.conn.execute(
        """
        SELECT "timestamp", service, revision FROM signature_matches
        WHERE "timestamp" >= $since AND "timestamp" < $until AND list_contains($sigs, signature)
        ORDER BY "timestamp" DESC, insert_id DESC LIMIT 1
        """,
        {"since": found.last_from, "until": until, "sigs": sorted(set(issue.signatures))},
    ).fetchone()
    scanned = Sighting(row[0], row[1], row[2]) if row else None
    return _latest(found.last, scanned)
