"""Traffic of the Cloud Run services over time ranges, read once per analysis.

Status needs the requests and instance starts since each claimed fix, the 5xx check and the
impact lines the requests of the window, each with whether the request count is a complete
denominator. ``TrafficLedger.read`` runs queries/part_service_traffic.sql once over the span
they share, cut at every range's edges (a part per pair of neighbouring cuts, hour and
service), and ``TrafficLedger.service_traffic`` sums the parts of one range in Python: one
read whatever the number of ranges, O(parts x hours x services) per range. The read counts
whole minutes from the per-minute ledger (``minute_volume``, forensics.store_macros), so the
traffic since a fix days before the window costs O(minutes x groups) of those days, not a
rescan of their entries.

Where the requests came from (``log_collection``, see ``log_denominator_gap``):
  - full: a Logging pull without pushdown covered the range (every request log);
  - bigquery: a BigQuery source counted every entry where it stays (minute_counts);
  - pushdown: only pushdown pulls did (httpRequest.status>=500 and context around errors);
  - unknown: pulled, but no checkpoint records the filter;
  - file: file ingests only; complete (``log_complete``) when the service's successful
    requests fall in at least half of the hours the file ingests hold any Cloud Run entry in
    (``log_ok_hours`` of ``log_active_hours``): a filtered export holds none, a partial or
    sampled one too few;
  - none: no request at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from forensics.sql import run_named
from forensics.store import Store

__all__ = [
    "Traffic",
    "TrafficLedger",
    "log_denominator_gap",
    "log_denominator_source",
    "service_traffic",
    "traffic",
]

# The columns of a ``service_traffic`` frame, in order, and their types.
SCHEMA: dict[str, Any] = {
    "service": pl.String,
    "log_requests": pl.Int64,
    "log_5xx": pl.Int64,
    "log_ok": pl.Int64,
    "log_pushdown": pl.Boolean,
    "log_collection": pl.String,
    "log_complete": pl.Boolean,
    "log_ok_hours": pl.Int64,
    "log_active_hours": pl.Int64,
    "instance_starts": pl.Int64,
    "metric_requests": pl.Float64,
    "metric_5xx": pl.Float64,
}


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


@dataclass(frozen=True)
class TrafficLedger:
    """Traffic per part, hour and service of [since, until) cut at ``cuts`` (sorted)."""

    since: datetime
    until: datetime
    cuts: tuple[datetime, ...]
    volume: pl.DataFrame  # part_service_traffic's entry rows (hour set)
    metrics: pl.DataFrame  # its metric rows (hour NULL)
    pulls: pl.DataFrame  # window_log_pulls over [since, until)

    @classmethod
    def read(
        cls, store: Store, since: datetime, until: datetime, cuts: Iterable[datetime] = ()
    ) -> TrafficLedger:
        """One pass over [since, until); every range asked later must start and end at
        ``since``, ``until`` or one of ``cuts`` (cuts outside the span are dropped)."""
        inner = tuple(sorted({c for c in cuts if since < c < until}))
        params = {"since": since, "until": until, "cuts": list(inner)}
        frame = run_named(store, "part_service_traffic", params)
        pulls = run_named(store, "window_log_pulls", {"since": since, "until": until})
        hourly = pl.col("hour").is_not_null()
        return cls(since, until, inner, frame.filter(hourly), frame.filter(~hourly), pulls)

    def service_traffic(
        self, since: datetime, until: datetime, services: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """Per service over [since, until): the ``SCHEMA`` columns (see the module docstring)."""
        edges = {self.since, self.until, *self.cuts}
        if since not in edges or until not in edges:
            raise ValueError(f"[{since}, {until}) does not start and end at a cut of the ledger")
        wanted = list(services or [])
        inside = (pl.col("part") >= since) & (pl.col("part") < until)
        vol = self.volume.filter(inside)
        active = vol.filter(pl.col("file_active"))["hour"].n_unique()
        met = self.metrics.filter(inside)
        if wanted:
            vol = vol.filter(pl.col("service").is_in(wanted))
            met = met.filter(pl.col("service").is_in(wanted))
        overlap = self.pulls.filter(
            (pl.col("window_start") < until) & (pl.col("window_end") > since)
        )
        full, pushdown = bool(overlap["full_pull"].any()), bool(overlap["pushdown_pull"].any())
        logs = {
            r["service"]: r
            for r in vol.group_by("service")
            .agg(
                pl.col("requests").sum(),
                pl.col("five_xx").sum(),
                pl.col("ok").sum(),
                pl.col("pulled_requests").sum(),
                pl.col("counted_requests").sum(),
                pl.col("instance_starts").sum(),
                pl.col("hour").filter(pl.col("file_ok")).n_unique().alias("ok_hours"),
            )
            .to_dicts()
        }
        points = {
            r["service"]: r
            for r in met.group_by("service")
            .agg(pl.col("metric_requests").sum(), pl.col("metric_5xx").sum())
            .to_dicts()
        }
        rows = [
            _judged(service, logs.get(service), points.get(service), full, pushdown, active)
            for service in sorted({*logs, *points} - {None})
        ]
        return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _judged(
    service: str,
    logs: dict[str, Any] | None,
    points: dict[str, Any] | None,
    full: bool,
    pushdown: bool,
    active_hours: int,
) -> tuple[Any, ...]:
    """One service's row: its request logs judged as a denominator, and its metric."""
    logs = logs or {}
    requests = int(logs.get("requests") or 0)
    ok_hours = int(logs.get("ok_hours") or 0) if logs else 0
    if requests == 0:
        collection = "none"
    elif full:
        collection = "full"
    elif logs.get("counted_requests"):
        collection = "bigquery"
    elif logs.get("pulled_requests") and pushdown:
        collection = "pushdown"
    elif logs.get("pulled_requests"):
        collection = "unknown"
    else:
        collection = "file"
    complete = collection in ("full", "bigquery") or (
        collection == "file" and ok_hours > 0 and 2 * ok_hours >= active_hours
    )
    return (
        service,
        requests,
        int(logs.get("five_xx") or 0),
        int(logs.get("ok") or 0),
        collection == "pushdown",
        collection,
        complete,
        ok_hours,
        active_hours if logs else 0,
        int(logs.get("instance_starts") or 0),
        None if points is None else points["metric_requests"],
        None if points is None else points["metric_5xx"],
    )


def service_traffic(
    store: Store, since: datetime, until: datetime, services: list[str] | None = None
) -> pl.DataFrame:
    """Per service: requests and 5xx from logs and metrics, and instance starts (one range:
    ``TrafficLedger`` when there are several)."""
    return TrafficLedger.read(store, since, until).service_traffic(since, until, services)


def log_denominator_gap(row: dict[str, Any]) -> str | None:
    """Why a ``service_traffic`` row's request logs cannot be a ratio's denominator, or None
    when they can (``log_complete``: a full pull, a BigQuery count, or a file ingest shown
    complete). Pushdown pulls failing requests and a sample around errors; a file ingest is
    complete only when its successful requests span the window; any ratio over the rest is
    too high by construction."""
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
    if row.get("log_collection") == "bigquery":
        return "request counts from BigQuery, every entry counted in place (minute_counts)"
    ok, hours = int(row.get("log_ok_hours") or 0), int(row.get("log_active_hours") or 0)
    return f"request logs of a file ingest shown complete (2xx/3xx in {ok} of {hours} h)"


def traffic(
    store: Store | TrafficLedger,
    since: datetime,
    until: datetime,
    services: list[str] | None = None,
) -> Traffic:
    """Totals over ``services`` (all when empty), from a ledger read once or the store.

    Requests come from the request_count metric when it was collected, else from request logs
    that are complete (``log_denominator_gap``); failing-only request logs count no traffic.
    """
    if isinstance(store, TrafficLedger):
        frame = store.service_traffic(since, until, services)
    else:
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
