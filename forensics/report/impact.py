"""A scope's quantified impact: requests per minute, failed ratios and the impact minutes.

Requests come from request_count metrics when collected, else from request logs (or a BigQuery
source's per-minute counts); request logs that hold failing requests only (pushdown, a filtered
export) give no ratio, so there a minute with any 5xx counts and the impact says it has no
complete denominator. The impact start / end are the first and last 5xx in a minute whose 5xx
ratio reached IMPACT_RATIO. Apart from ``forensics.report.postmortem`` (the timeline), which
changes for other reasons (events, deploys, resolution).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from forensics.incidents.traffic import (
    TrafficLedger,
    log_denominator_gap,
    log_denominator_source,
    service_traffic,
)
from forensics.report.facts import entry_ref
from forensics.report.records import Cite, Impact, Peak, QueryCite, TimelineEvent
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = [
    "IMPACT_RATIO",
    "NO_DENOMINATOR",
    "ImpactMinutes",
    "RequestMinutes",
    "impact_events",
    "request_minutes",
    "scope_impact",
]

IMPACT_RATIO = 0.05  # a minute counts as impact when at least 5% of its requests were 5xx
NO_DENOMINATOR = "none: no complete denominator"
NO_REQUESTS = "no request logs or request_count metrics for these services and minutes"


@dataclass(frozen=True)
class RequestMinutes:
    """Requests and 5xx per minute and service, and where the numbers came from."""

    frame: pl.DataFrame
    source: str  # "request_count metrics (Cloud Monitoring)", "request logs, ..." or NO_DENOMINATOR
    cite: QueryCite
    # service -> why its request logs are no denominator (failing requests only)
    incomplete: dict[str, str] = field(default_factory=dict)


def request_minutes(
    store: Store, window: Window, traffic: TrafficLedger | None = None
) -> RequestMinutes:
    """Per-minute request outcomes: Monitoring's request_count when collected (a complete
    count, as the 5xx-ratio check uses), else request logs, naming how they were collected
    and noting the services whose logs are no complete denominator
    (``forensics.incidents.coverage.log_denominator_gap``)."""
    params = {**window.params(), "bucket_s": 60}
    metrics = run_named(store, "bucket_service_request_metrics", params)
    if not metrics.is_empty():
        cite = QueryCite("bucket_service_request_metrics", params)
        return RequestMinutes(metrics, "request_count metrics (Cloud Monitoring)", cite)
    logs = run_named(store, "bucket_service_request_status", params)
    if logs.is_empty():
        return RequestMinutes(
            metrics, NO_DENOMINATOR, QueryCite("bucket_service_request_metrics", params)
        )
    if traffic is not None:  # the analysis' traffic, read once (it is cut at the window's start)
        rows = traffic.service_traffic(window.since, window.until).to_dicts()
    else:
        rows = service_traffic(store, window.since, window.until).to_dicts()
    incomplete = {str(r["service"]): gap for r in rows if (gap := log_denominator_gap(r))}
    bases = sorted({basis for r in rows if (basis := log_denominator_source(r))})
    source = "; ".join(bases) if bases else NO_DENOMINATOR
    cite = QueryCite("bucket_service_request_status", params)
    return RequestMinutes(logs, source, cite, incomplete)


@dataclass(frozen=True)
class ImpactMinutes:
    """The scope's first and last impact minutes (rows of the request frame)."""

    first: dict[str, Any]
    last: dict[str, Any]


def scope_impact(
    requests: RequestMinutes, services: list[str], start: datetime, end: datetime
) -> tuple[Impact, ImpactMinutes | None]:
    frame = requests.frame
    if frame.is_empty():
        return (
            Impact(
                NO_DENOMINATOR,
                requests=None,
                failed_requests=0,
                cite=requests.cite,
                denominator=NO_REQUESTS,
            ),
            None,
        )
    lo = start.replace(second=0, microsecond=0)
    scoped = frame.filter((pl.col("bucket") >= lo) & (pl.col("bucket") <= end))
    if services:
        scoped = scoped.filter(pl.col("service").is_in(services))
    partial = pl.col("service").is_in(list(requests.incomplete))
    # over failing-only request logs the ratio is 100 % by construction: no ratio there
    scoped = scoped.with_columns(
        ratio=pl.when(partial).then(None).otherwise(pl.col("failed") / pl.col("requests"))
    )
    complete = scoped.filter(~partial)
    gaps = sorted(
        {requests.incomplete[s] for s in scoped["service"].unique() if s in requests.incomplete}
    )
    total, failed = int(complete["requests"].sum() or 0), int(scoped["failed"].sum() or 0)
    # no ratio: some service's logs are no denominator, or there is no complete source at all
    unrated = bool(gaps) or requests.source == NO_DENOMINATOR
    hot = scoped.filter(
        (pl.col("failed") > 0) & (pl.col("ratio").is_null() | (pl.col("ratio") >= IMPACT_RATIO))
    ).sort("bucket")
    peak = None
    rated = hot.filter(pl.col("ratio").is_not_null())
    if not rated.is_empty():
        row = rated.sort(["ratio", "bucket"], descending=[True, False]).row(0, named=True)
        peak = Peak(
            minute=row["bucket"],
            service=row["service"],
            ratio=round(row["ratio"], 4),
            failed=int(row["failed"]),
            requests=int(row["requests"]),
        )
    impact = Impact(
        source=NO_DENOMINATOR if unrated else requests.source,
        services=tuple(sorted(set(scoped["service"].to_list()))),
        requests=None if unrated else total,
        failed_requests=failed,
        failed_ratio=round(failed / total, 4) if total and not gaps else None,
        impact_minutes=hot.height,
        denominator="; ".join(gaps) or (NO_REQUESTS if unrated else None),
        cite=requests.cite,
        peak=peak,
    )
    minutes = None
    if not hot.is_empty():
        minutes = ImpactMinutes(hot.row(0, named=True), hot.row(hot.height - 1, named=True))
    return impact, minutes


def impact_events(
    impact: Impact, minutes: ImpactMinutes | None, project: str | None
) -> list[TimelineEvent]:
    if minutes is None:
        return []
    first, last = minutes.first, minutes.last
    pct = f"{IMPACT_RATIO:.0%}"
    minute = f"a minute with ≥ {pct} 5xx"
    if first["ratio"] is None or last["ratio"] is None:
        minute = "a minute with 5xx"

    def counted(row: dict[str, Any]) -> str:
        if row["ratio"] is None:  # failing-only request logs: a count, never a ratio
            return f"{row['failed']} failed requests; no complete request count"
        return f"{row['failed']}/{row['requests']} requests"

    start_cite: Cite
    end_cite: Cite
    if "first_failed_insert_id" in first:  # request logs: cite the 5xx entries themselves
        start_cite = entry_ref(first, project, "first_failed_")
        end_cite = entry_ref(last, project, "last_failed_")
        start_time, end_time = first["first_failed_at"], last["last_failed_at"]
    else:
        start_cite = end_cite = impact.cite
        # a request_count point's time is the end of the minute it counts
        start_time, end_time = first["bucket"] - timedelta(minutes=1), last["bucket"]
    return [
        TimelineEvent(
            start_time,
            "impact_start",
            f"Impact starts: first 5xx on {first['service']} in {minute} "
            f"({counted(first)}{'' if impact.requests is None else f', from {impact.source}'})",
            start_cite,
        ),
        TimelineEvent(
            end_time,
            "impact_end",
            f"Impact ends: last 5xx in {minute} on {last['service']} ({counted(last)})",
            end_cite,
        ),
    ]
