"""The data behind the report's timeline chart: counts, request outcomes and metric overlays.

Pure data (ISO times and numbers), so the JSON report carries it for tools and svg.py draws it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from forensics.report.impact import RequestMinutes
from forensics.report.records import ChartData, Lane, MetricSeries, QueryCite, RequestPoint
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["OVERLAY_METRICS", "bucket_seconds", "chart_data", "sparkline"]

# Bucket sizes a reader can do arithmetic with; the smallest giving at most MAX_BUCKETS bars.
_BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_BUCKETS = 150
MAX_LANES = 8

# Metric overlays drawn over a service's lane: type -> (label, fixed scale or None for peak).
OVERLAY_METRICS: dict[str, tuple[str, float | None]] = {
    "run.googleapis.com/container/memory/utilizations": ("memory utilization", 1.0),
    "run.googleapis.com/container/cpu/utilizations": ("CPU utilization", 1.0),
    "cloudsql.googleapis.com/database/postgresql/num_backends": ("Cloud SQL backends", None),
    "cloudsql.googleapis.com/database/cpu/utilization": ("Cloud SQL CPU", 1.0),
}


def bucket_seconds(window: Window) -> int:
    """The chart's bucket size for ``window``."""
    span = (window.until - window.since).total_seconds()
    return next((b for b in _BUCKETS if span / b <= MAX_BUCKETS), _BUCKETS[-1])


def _lanes(counts: pl.DataFrame, requests: pl.DataFrame) -> list[Lane]:
    """Services to draw, most matches first (services with failing requests too)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in counts.group_by("service", "signature").agg(pl.col("n").sum()).to_dicts():
        lane = totals.setdefault(
            row["service"], {"service": row["service"], "total": 0, "signatures": {}}
        )
        lane["total"] += row["n"]
        lane["signatures"][row["signature"]] = row["n"]
    if not requests.is_empty():
        for row in requests.group_by("service").agg(pl.col("failed").sum()).to_dicts():
            if row["failed"]:
                totals.setdefault(
                    row["service"], {"service": row["service"], "total": 0, "signatures": {}}
                )
    lanes = sorted(totals.values(), key=lambda lane: (-lane["total"], lane["service"]))
    return [
        Lane(lane["service"], lane["total"], dict(sorted(lane["signatures"].items())))
        for lane in lanes[:MAX_LANES]
    ]


def _request_series(
    requests: RequestMinutes, bucket_s: int, window: Window, services: set[str]
) -> list[RequestPoint]:
    """Requests, 5xx and their ratio per bucket and lane, one row for every bucket of the
    window: a bucket with no data has nulls (a gap to draw, never a line joined across it), and
    a service whose request logs hold failing requests only has no ratio at all."""
    frame = requests.frame
    if frame.is_empty():
        return []
    rolled = (
        frame.with_columns(
            pl.from_epoch((pl.col("bucket").dt.epoch("s") // bucket_s) * bucket_s, time_unit="s")
            .dt.replace_time_zone("UTC")
            .alias("bucket")
        )
        .group_by("bucket", "service")
        .agg(pl.col("requests").sum(), pl.col("failed").sum())
    )
    seen = {(r["bucket"], r["service"]): r for r in rolled.to_dicts()}
    first = int(window.since.timestamp()) // bucket_s * bucket_s
    starts = range(first, int(window.until.timestamp()), bucket_s)
    out = []
    for service in sorted(services & set(rolled["service"].to_list())):
        rated = service not in requests.incomplete
        for epoch in starts:
            bucket = datetime.fromtimestamp(epoch, UTC)
            row = seen.get((bucket, service))
            total = int(row["requests"]) if row else None
            failed = int(row["failed"]) if row else None
            ratio = failed / total if rated and total and failed is not None else None
            out.append(
                RequestPoint(
                    bucket=bucket,
                    service=service,
                    requests=total if rated else None,
                    failed=failed,
                    ratio=None if ratio is None else round(ratio, 4),
                )
            )
    return out


def _metric_series(
    store: Store, window: Window, bucket_s: int
) -> tuple[list[MetricSeries], QueryCite]:
    params = {**window.params(), "bucket_s": bucket_s, "metric_types": ",".join(OVERLAY_METRICS)}
    frame = run_named(store, "bucket_service_metric_peaks", params)
    series = []
    for (service, metric_type), group in sorted(
        frame.group_by("service", "metric_type"), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))
    ):
        label, scale = OVERLAY_METRICS[str(metric_type)]
        group = group.sort("bucket")
        peak = max((float(v) for v in group["peak"].to_list() if v is not None), default=0.0)
        series.append(
            MetricSeries(
                service=str(service),
                metric_type=str(metric_type),
                label=label,
                scale_max=scale if scale is not None else max(peak, 1.0),
                peak=peak,
                points=tuple((b, float(v)) for b, v in group.select("bucket", "peak").iter_rows()),
            )
        )
    return series, QueryCite("bucket_service_metric_peaks", params)


def chart_data(store: Store, window: Window, requests: RequestMinutes) -> ChartData:
    """Everything the timeline draws except deploys and incidents (the report adds those)."""
    bucket_s = bucket_seconds(window)
    params = {**window.params(), "bucket_s": bucket_s}
    counts = run_named(store, "bucket_service_signature_counts", params)
    lanes = _lanes(counts, requests.frame)
    names = {lane.service for lane in lanes}
    metrics, metric_cite = _metric_series(store, window, bucket_s)
    return ChartData(
        since=window.since,
        until=window.until,
        bucket_s=bucket_s,
        lanes=tuple(lanes),
        counts=tuple(
            {
                "bucket": r["bucket"],
                "service": r["service"],
                "signature": r["signature"],
                "n": r["n"],
            }
            for r in counts.to_dicts()
            if r["service"] in names
        ),
        requests=tuple(_request_series(requests, bucket_s, window, names)),
        requests_source=requests.source,
        requests_incomplete=dict(requests.incomplete),
        metrics=tuple(m for m in metrics if m.service in names),
        cite=(
            QueryCite("bucket_service_signature_counts", params),
            requests.cite,
            metric_cite,
        ),
    )


_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(chart: dict[str, Any], service: str, hours: int = 1) -> str:
    """Matches per ``hours`` for one service as block characters (for Markdown and terminals)."""
    since = datetime.fromisoformat(chart["since"])
    until = datetime.fromisoformat(chart["until"])
    step = hours * 3600
    slots = max(int((until - since).total_seconds() // step), 1)
    counts = [0] * slots
    for row in chart["counts"]:
        if row["service"] == service:
            i = int((datetime.fromisoformat(row["bucket"]) - since).total_seconds() // step)
            counts[min(max(i, 0), slots - 1)] += row["n"]
    peak = max(counts) or 1
    return "".join("\u2007" if n == 0 else _BLOCKS[min(int(n / peak * 7.999), 7)] for n in counts)
