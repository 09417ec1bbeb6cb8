"""What the store holds for a window: entries per evidence source, data gaps, and traffic.

Status needs these to tell "no evidence" (QUIET, RESOLVED) from "not collected" (NO_DATA), and
to say how much traffic an absence of evidence rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from forensics.incidents.registry import SOURCES
from forensics.sql import run_named
from forensics.store import Store

__all__ = [
    "Coverage",
    "Traffic",
    "log_denominator_gap",
    "log_denominator_source",
    "service_traffic",
    "traffic",
    "window_coverage",
]


@dataclass(frozen=True)
class Coverage:
    """Entries per source in the window and the data gaps overlapping it."""

    since: datetime
    until: datetime
    entries: dict[str, int]
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def gaps_for(self, source: str) -> list[dict[str, Any]]:
        """Gaps of one source: the collectors name them ``logging:<project>:<source>``, with a
        ``~N`` suffix when a long filter was split into several pulls (``run~2``)."""
        return [g for g in self.gaps if str(g["source"]).split(":")[-1].split("~")[0] == source]

    def collected(self, source: str) -> bool:
        """True when the source has entries in the window and no gap covers all of it."""
        if not self.entries.get(source):
            return False
        return not any(
            g["start"] <= self.since and g["end"] >= self.until for g in self.gaps_for(source)
        )


def window_coverage(store: Store, since: datetime, until: datetime) -> Coverage:
    """Entries per evidence source in [since, until) and the gaps overlapping it."""
    params = {"since": since, "until": until}
    row = run_named(store, "window_source_coverage", params).row(0, named=True)
    entries = {key: int(row[key.replace("-", "_")] or 0) for key in SOURCES}
    gaps = run_named(store, "window_source_gaps", params).to_dicts()
    return Coverage(since, until, entries, gaps)


@dataclass(frozen=True)
class Traffic:
    """Requests and instance starts of some services over a time range."""

    requests: int
    requests_source: str  # "request_count metric", "request logs" or "none"
    five_xx: int
    instance_starts: int
    services: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "requests_source": self.requests_source,
            "5xx": self.five_xx,
            "instance_starts": self.instance_starts,
            "services": list(self.services),
        }


def service_traffic(
    store: Store, since: datetime, until: datetime, services: list[str] | None = None
) -> pl.DataFrame:
    """Per service: requests and 5xx from logs and metrics, and instance starts."""
    params = {"since": since, "until": until, "services": list(services or [])}
    return run_named(store, "range_service_traffic", params)


def log_denominator_gap(row: dict[str, Any]) -> str | None:
    """Why a ``service_traffic`` row's request logs cannot be a ratio's denominator, or None
    when they can (``log_complete``: a full pull, or a file ingest shown complete). Pushdown
    pulls failing requests and a sample around errors; a file ingest is complete only when its
    successful requests span the window; any ratio over the rest is too high by construction."""
    if row.get("log_complete") or not row.get("log_requests"):
        return None
    collection = row.get("log_collection")
    if collection == "pushdown":
        return "request logs pulled with pushdown hold failing requests only"
    if collection == "file":
        ok, hours = int(row.get("log_ok_hours") or 0), int(row.get("log_active_hours") or 0)
        return (
            "request logs from a file ingest, not shown complete (successful requests in "
            f"{ok} of the {hours} hours the files cover; at least half are needed)"
        )
    return "request logs pulled with no record of their filter"


def log_denominator_source(row: dict[str, Any]) -> str | None:
    """Where a complete request-log denominator came from (None when it is not complete)."""
    if not row.get("log_complete") or not row.get("log_requests"):
        return None
    if row.get("log_collection") == "full":
        return "request logs, pulled in full"
    ok, hours = int(row.get("log_ok_hours") or 0), int(row.get("log_active_hours") or 0)
    return f"request logs of a file ingest shown complete (2xx/3xx in {ok} of {hours} h)"


def traffic(
    store: Store, since: datetime, until: datetime, services: list[str] | None = None
) -> Traffic:
    """Totals over ``services`` (all when empty).

    Requests come from the request_count metric when it was collected, else from request logs
    that are complete (``log_denominator_gap``); failing-only request logs count no traffic.
    """
    frame = service_traffic(store, since, until, services)
    if frame.is_empty():
        return Traffic(0, "none", 0, 0, tuple(services or ()))
    starts = int(frame["instance_starts"].sum())
    names = tuple(frame["service"].to_list())
    if frame["metric_requests"].drop_nulls().len():
        requests = int(frame["metric_requests"].fill_null(0).sum())
        five_xx = int(frame["metric_5xx"].fill_null(0).sum())
        return Traffic(requests, "request_count metric", five_xx, starts, names)
    rows = frame.to_dicts()
    gaps = sorted({gap for r in rows if (gap := log_denominator_gap(r))})
    requests = sum(int(r["log_requests"]) for r in rows if not log_denominator_gap(r))
    source = "request logs" if requests else "none"
    if gaps:
        source += f"; {'; '.join(gaps)}"
    return Traffic(requests, source, int(frame["log_5xx"].sum()), starts, names)
