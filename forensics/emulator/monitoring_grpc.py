"""Cloud Monitoring v3 ``ListTimeSeries`` over gRPC, for the real MetricServiceClient.

The Python monitoring client has no REST transport (gcp-wire-facts §1.1), so the emulator
speaks gRPC on 127.0.0.1 and builds each answer from REST JSON with
``ListTimeSeriesResponse.from_json``: the fixtures keep the public REST shape. Rules followed:
the filter must name exactly one ``metric.type``; only points whose end time falls in the
interval are returned, newest first; with the FULL view ``page_size`` counts points (a series
may continue on the next page), with HEADERS it counts series; 0 or more than 100,000 means
100,000.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from concurrent import futures
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc
from google.cloud import monitoring_v3

from forensics.clock import Clock
from forensics.emulator.data import SeriesTable
from forensics.emulator.faults import FaultInjector, Quota
from forensics.emulator.filter_parser import And, Compare, FilterSyntaxError, Node, parse_filter
from forensics.emulator.filter_sql import CompiledFilter, compile_filter, parse_rfc3339

__all__ = ["MonitoringService", "make_grpc_server"]

MAX_PAGE_POINTS = 100_000
_HEADERS_VIEW = 1


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _metric_types(node: Node | None) -> list[str]:
    items = node.items if isinstance(node, And) else (node,) if node is not None else ()
    return [
        c.value
        for c in items
        if isinstance(c, Compare) and c.path == ("metric", "type") and c.op == "="
    ]


def _token(key: str, series_at: int, offset: int) -> str:
    raw = json.dumps({"q": key, "s": series_at, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode()


@dataclass
class MonitoringService:
    """The logic of ``ListTimeSeries``; the gRPC handler only translates aborts."""

    table: SeriesTable
    quota: Quota
    faults: FaultInjector
    clock: Clock
    requests: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0
    points_served: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ends: list[list[datetime]] = field(init=False)

    def __post_init__(self) -> None:
        self._ends = [
            [parse_rfc3339(p["interval"]["endTime"]) for p in s.get("points", [])]
            for s in self.table.series
        ]

    def handle(
        self, request: monitoring_v3.ListTimeSeriesRequest, context: grpc.ServicerContext
    ) -> monitoring_v3.ListTimeSeriesResponse:
        try:
            return self.list_time_series(request)
        except _Abort as err:
            context.abort(err.code, err.message)
            raise  # context.abort raises; this line is never reached

    def list_time_series(
        self, request: monitoring_v3.ListTimeSeriesRequest
    ) -> monitoring_v3.ListTimeSeriesResponse:
        with self._lock:
            self.requests.append(
                monitoring_v3.ListTimeSeriesRequest.to_dict(request, use_integers_for_enums=False)
            )
        decision = self.faults.decide(request.filter)
        if decision.stall_s:
            self.clock.sleep(decision.stall_s)
        if decision.action in ("503", "drop"):
            raise _Abort(grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable.")
        if decision.action == "429":
            raise _Abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota exceeded (injected).")
        if not request.name.startswith("projects/"):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "name must be projects/PROJECT_ID")
        project = request.name.split("/", 1)[1]
        if not self.quota.admit(project):
            raise _Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "Quota exceeded for quota metric 'Time series queries' of service "
                "'monitoring.googleapis.com'.",
            )
        return self._page(request, project)

    def _select(self, request: monitoring_v3.ListTimeSeriesRequest, project: str) -> list[int]:
        try:
            node = parse_filter(request.filter)
            types = _metric_types(node)
            if len(types) != 1:
                raise FilterSyntaxError("the filter must name exactly one metric.type")
            where = compile_filter(node, columns={})
        except FilterSyntaxError as err:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid filter: {err}") from None
        scoped = CompiledFilter(
            "coalesce(json_extract_string(raw, '$.resource.labels.project_id'), ?) = ? AND "
            + where.sql,
            [project, project, *where.params],
        )
        return self.table.matching(scoped)

    def _page(
        self, request: monitoring_v3.ListTimeSeriesRequest, project: str
    ) -> monitoring_v3.ListTimeSeriesResponse:
        end = request.interval.end_time
        if end is None:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "interval.end_time is required")
        start = request.interval.start_time or end
        if start > end:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "interval starts after it ends")
        matched = self._select(request, project)
        headers_only = int(request.view) == _HEADERS_VIEW
        size = request.page_size if 0 < request.page_size <= MAX_PAGE_POINTS else MAX_PAGE_POINTS
        key = hashlib.sha256(
            json.dumps(
                [request.name, request.filter, str(start), str(end), int(request.view)]
            ).encode()
        ).hexdigest()[:16]
        series_at, offset = self._decode(request.page_token, key)
        out: list[dict[str, Any]] = []
        budget = size
        while series_at < len(matched) and budget > 0:
            idx = matched[series_at]
            keep = [i for i, t in enumerate(self._ends[idx]) if start <= t <= end]
            header = {k: v for k, v in self.table.series[idx].items() if k != "points"}
            if not keep:
                series_at, offset = series_at + 1, 0
                continue
            if headers_only:
                out.append(header)
                budget -= 1
                series_at, offset = series_at + 1, 0
                continue
            take = keep[offset : offset + budget]
            points = self.table.series[idx]["points"]
            out.append({**header, "points": [points[i] for i in take]})
            budget -= len(take)
            offset += len(take)
            if offset >= len(keep):
                series_at, offset = series_at + 1, 0
        page: dict[str, Any] = {"timeSeries": out}
        if series_at < len(matched):
            page["nextPageToken"] = _token(key, series_at, offset)
        with self._lock:
            self.answered += 1
            self.points_served += sum(len(s.get("points", [])) for s in out)
        return monitoring_v3.ListTimeSeriesResponse.from_json(
            json.dumps(page), ignore_unknown_fields=True
        )

    def _decode(self, token: str, key: str) -> tuple[int, int]:
        if not token:
            return 0, 0
        try:
            value = json.loads(base64.urlsafe_b64decode(token.encode()))
            if value["q"] != key:
                raise ValueError("token for another query")
            return int(value["s"]), int(value["o"])
        except (ValueError, KeyError, TypeError):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Invalid page token.") from None


def make_grpc_server(service: MonitoringService, host: str, port: int) -> tuple[grpc.Server, int]:
    """A started-later gRPC server serving ``service``; returns it and the bound port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    handler = grpc.method_handlers_generic_handler(
        "google.monitoring.v3.MetricService",
        {
            "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                service.handle,
                request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    bound = server.add_insecure_port(f"{host}:{port}")
    return server, bound
