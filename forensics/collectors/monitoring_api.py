"""Cloud Monitoring ``ListTimeSeries`` through the official MetricServiceClient, into metric_points.

The Python monitoring client only speaks gRPC. Against Google it uses Application Default
Credentials; against an emulator (``host:port``) it uses an insecure channel with the HTTP proxy
disabled (gcp-wire-facts §1.3, G4). Each call passes ``retry=None``: the client's own retry
sleeps on the real clock and gives up on RESOURCE_EXHAUSTED, so the shared pacing loop retries
instead. Points are stored raw (no aligner): one row per point, with a distribution's mean,
count and the lower bound of its highest non-empty bucket, so a reviewer can re-derive any
signal from the stored rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from forensics.collectors.auth import google_credentials
from forensics.collectors.checkpoints import Checkpoint, Range
from forensics.collectors.pull import Advance
from forensics.store import Store, transaction

__all__ = ["MetricPages", "MonitoringClient", "distribution_floor_of_max", "series_rows"]

_SERVICE_LABELS = ("service_name", "database_id", "connector_name")
_ROW_FIELDS = (
    "metric_type",
    "resource_type",
    "resource_labels",
    "metric_labels",
    "service",
    "start_time",
    "point_time",
    "value",
    "value_count",
    "value_kind",
    "value_max",
    "unit",
)


class MonitoringClient:
    """One project's ``ListTimeSeries`` calls."""

    def __init__(self, project: str, endpoint: str = "", timeout_s: float = 60.0) -> None:
        from google.cloud import monitoring_v3

        self.project = project
        self.timeout_s = timeout_s
        self._channel: Any = None
        if endpoint:
            import grpc
            from google.cloud.monitoring_v3.services.metric_service.transports import (
                MetricServiceGrpcTransport,
            )

            self._channel = grpc.insecure_channel(endpoint, options=[("grpc.enable_http_proxy", 0)])
            transport = MetricServiceGrpcTransport(channel=self._channel)
            self._client = monitoring_v3.MetricServiceClient(transport=transport)
        else:
            self._client = monitoring_v3.MetricServiceClient(
                credentials=google_credentials(project)
            )

    def list_page(
        self, filter_: str, start: datetime, end: datetime, token: str | None, page_size: int
    ) -> Any:
        """One call; the raw protobuf ListTimeSeriesResponse."""
        from google.cloud import monitoring_v3

        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self.project}",
            filter=filter_,
            interval=monitoring_v3.TimeInterval(start_time=start, end_time=end),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
            page_size=page_size,
            page_token=token or "",
        )
        pager = self._client.list_time_series(request=request, retry=None, timeout=self.timeout_s)
        response = next(iter(pager.pages))  # the first page only; paging is ours
        return type(response).pb(response)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()  # before the server goes away, or grpc logs a GOAWAY


def distribution_floor_of_max(dist: Any) -> float | None:
    """Lower bound of the highest non-empty bucket: some sample was at least this."""
    counts = list(dist.bucket_counts)
    top = max((i for i, c in enumerate(counts) if c > 0), default=None)
    if top is None:
        return None
    opts = dist.bucket_options
    which = opts.WhichOneof("options")
    floor: float | None = None
    if which == "exponential_buckets":
        b = opts.exponential_buckets
        floor = (
            0.0
            if top == 0
            else b.scale * b.growth_factor ** (min(top, b.num_finite_buckets + 1) - 1)
        )
    elif which == "linear_buckets":
        b = opts.linear_buckets
        top = min(top, b.num_finite_buckets + 1)
        floor = None if top == 0 else b.offset + b.width * (top - 1)
    elif which == "explicit_buckets":
        bounds = list(opts.explicit_buckets.bounds)
        floor = None if top == 0 or not bounds else bounds[min(top, len(bounds)) - 1]
    if floor is None:
        return None
    return max(floor, float(dist.mean)) if dist.count else floor


def _canonical(labels: Any) -> str:
    return json.dumps(dict(labels), sort_keys=True, separators=(",", ":"))


def series_rows(response: Any) -> list[tuple[Any, ...]]:
    """metric_points rows (without source and ingest_id) from a protobuf response."""
    rows: list[tuple[Any, ...]] = []
    for ts in response.time_series:
        resource_labels = dict(ts.resource.labels)
        service = next((resource_labels[k] for k in _SERVICE_LABELS if k in resource_labels), None)
        head = (
            ts.metric.type,
            ts.resource.type,
            _canonical(resource_labels),
            _canonical(ts.metric.labels),
            service,
        )
        for p in ts.points:
            start = (
                p.interval.start_time.ToDatetime(tzinfo=UTC)
                if p.interval.HasField("start_time")
                else None
            )
            end = p.interval.end_time.ToDatetime(tzinfo=UTC)
            kind = p.value.WhichOneof("value") or "none"
            count: int | None = None
            top: float | None = None
            if kind == "distribution_value":
                dist = p.value.distribution_value
                value: float | None = float(dist.mean) if dist.count else None
                count = int(dist.count)
                top = distribution_floor_of_max(dist)
            elif kind == "string_value":
                value = None
            else:
                value = float(getattr(p.value, kind)) if kind != "none" else None
            rows.append(
                (*head, start, end, value, count, kind.removesuffix("_value"), top, ts.unit or None)
            )
    return rows


_INSERT = f"""
INSERT INTO metric_points ({", ".join(_ROW_FIELDS)}, source, ingest_id)
SELECT metric_type, resource_type, resource_labels::JSON, metric_labels::JSON, service,
       start_time, point_time, value, value_count, value_kind, value_max, unit, ?, ?
FROM page AS p
WHERE NOT EXISTS (
    SELECT 1 FROM metric_points AS m
    WHERE m.metric_type = p.metric_type
      AND m.point_time = p.point_time
      AND m.resource_labels::VARCHAR = p.resource_labels
      AND m.metric_labels::VARCHAR = p.metric_labels)
QUALIFY row_number() OVER (
    PARTITION BY metric_type, point_time, resource_labels, metric_labels) = 1
"""


def _page_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in _ROW_FIELDS]
    types = [
        pa.string(),
        pa.string(),
        pa.string(),
        pa.string(),
        pa.string(),
        pa.timestamp("us", tz="UTC"),
        pa.timestamp("us", tz="UTC"),
        pa.float64(),
        pa.int64(),
        pa.string(),
        pa.float64(),
        pa.string(),
    ]
    return pa.table(
        {n: pa.array(list(c), t) for n, c, t in zip(_ROW_FIELDS, columns, types, strict=True)}
    )


@dataclass
class MetricPages:
    """The PageSource of one Monitoring pull (one metric type, one interval)."""

    client: MonitoringClient
    store: Store
    source: str
    filter: str
    start: datetime
    end: datetime
    page_size: int

    def fetch(self, token: str | None) -> tuple[list[Any], str | None]:
        response = self.client.list_page(self.filter, self.start, self.end, token, self.page_size)
        return series_rows(response), response.next_page_token or None

    def commit(self, items: list[Any], advance: Advance) -> int:
        conn = self.store.conn
        conn.register("page", _page_table(items))
        try:
            with transaction(conn):
                row = conn.execute(
                    "INSERT INTO ingest_runs (ingest_id, source, started, status) "
                    "VALUES (nextval('ingest_id_seq'), ?, ?, 'running') RETURNING ingest_id",
                    [self.source, datetime.now(UTC)],
                ).fetchone()
                assert row is not None
                ingest_id = int(row[0])
                inserted = conn.execute(_INSERT, [self.source, ingest_id]).fetchone()
                accepted = int(inserted[0]) if inserted else 0
                conn.execute(
                    "UPDATE ingest_runs SET finished = ?, accepted = ?, duplicates = ?, "
                    "status = 'complete' WHERE ingest_id = ?",
                    [datetime.now(UTC), accepted, len(items) - accepted, ingest_id],
                )
                advance(conn)
        finally:
            conn.unregister("page")
        return accepted

    def last_time(self, items: list[Any]) -> datetime | None:
        return None  # pages follow series, not time: a failed pull leaves its whole interval

    def remaining(self, ckpt: Checkpoint) -> list[Range]:
        return list(ckpt.ranges)
