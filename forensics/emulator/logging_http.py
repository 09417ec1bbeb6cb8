"""Cloud Logging v2 ``entries:list`` over HTTP/JSON, as google-cloud-logging's HTTP client calls it.

The client POSTs ``/v2/entries:list?prettyPrint=false`` with a JSON body
(``resourceNames``, ``filter``, ``orderBy``, ``pageSize``, ``pageToken``) and expects
``{"entries": [...], "nextPageToken": "..."}``, or an ``{"error": {...}}`` body whose HTTP status
picks the exception class. Validation follows the API: ``pageSize`` at most 1000 (default 50),
``orderBy`` "timestamp asc" or "timestamp desc", a filter of at most 20,000 characters in the
supported language, and a page token only for the query that issued it. Errors carry the real
API's status names and, for the quota, its ErrorInfo detail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from forensics.clock import Clock
from forensics.emulator.data import EntryTable
from forensics.emulator.faults import FaultInjector, Quota
from forensics.emulator.filter_parser import FilterSyntaxError, parse_filter
from forensics.emulator.filter_sql import CompiledFilter, compile_filter, time_bounds

__all__ = ["ApiError", "LoggingService", "make_http_server"]

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
MAX_FILTER_CHARS = 20_000
DEFAULT_SCAN_BUDGET = 2_000_000

_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}


class ApiError(Exception):
    """An error answer: HTTP status, message, optional details."""

    def __init__(self, code: int, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "status": _STATUS.get(self.code, "UNKNOWN"),
                "message": self.message,
                "details": self.details,
            }
        }


def quota_error(project: str, per_minute: int) -> ApiError:
    """The 429 the real API sends when the read quota is spent (gcp-wire-facts §7)."""
    return ApiError(
        429,
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' "
        f"of service 'logging.googleapis.com' for consumer 'project:{project}'.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_limit": "ReadRequestsPerMinutePerProject",
                    "quota_limit_value": str(per_minute),
                    "quota_metric": "logging.googleapis.com/read_requests",
                    "service": "logging.googleapis.com",
                },
            }
        ],
    )


def _query_key(body: dict[str, Any]) -> str:
    key = json.dumps(
        [sorted(body.get("resourceNames") or []), body.get("filter", ""), body.get("orderBy")]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _encode_token(key: str, pos: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": key, "p": pos}).encode()).decode()


def _decode_token(token: str, key: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        pos = int(value["p"])
        issued_for = str(value["q"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "Invalid page token.") from None
    if issued_for != key:
        raise ApiError(
            400,
            "The page token does not match the query: keep the other "
            "parameters of the call that returned it.",
        )
    return pos


@dataclass
class LoggingService:
    """The logic of ``entries:list``, independent of HTTP (tests call it directly too)."""

    table: EntryTable
    quota: Quota
    faults: FaultInjector
    clock: Clock
    scan_budget: int = DEFAULT_SCAN_BUDGET
    requests: list[dict[str, Any]] = field(default_factory=list)  # every body received
    answered: int = 0  # calls answered with a page
    entries_served: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _compile(self, text: str) -> tuple[CompiledFilter, Any]:
        if len(text) > MAX_FILTER_CHARS:
            raise ApiError(400, f"filter is {len(text)} characters, over {MAX_FILTER_CHARS}.")
        try:
            node = parse_filter(text)
            return compile_filter(node), time_bounds(node)
        except FilterSyntaxError as err:
            raise ApiError(400, f"Unparseable filter: {err}") from None

    def list_entries(self, body: dict[str, Any]) -> tuple[str, dict[str, Any] | str]:
        """Decide one call: ("drop", ""), or ("answer", status-and-JSON) via ``respond``."""
        with self._lock:
            self.requests.append(body)
        decision = self.faults.decide(str(body.get("filter", "")))
        if decision.stall_s:
            self.clock.sleep(decision.stall_s)
        if decision.action == "drop":
            return "drop", ""
        if decision.action == "429":
            names = body.get("resourceNames") or ["projects/unknown"]
            return "error", quota_error(str(names[0]).split("/")[-1], self.quota.per_minute).body()
        if decision.action == "503":
            return "error", ApiError(503, "The service is currently unavailable.").body()
        try:
            return "ok", self._page(body)
        except ApiError as err:
            return "error", err.body()

    def _project(self, body: dict[str, Any]) -> str:
        names = body.get("resourceNames") or []
        if not names or not all(isinstance(n, str) and n.startswith("projects/") for n in names):
            raise ApiError(400, "resourceNames must name at least one projects/PROJECT_ID.")
        return str(names[0]).split("/", 1)[1]

    def _page(self, body: dict[str, Any]) -> str:
        project = self._project(body)
        if not self.quota.admit(project):
            raise quota_error(project, self.quota.per_minute)
        size = body.get("pageSize", DEFAULT_PAGE_SIZE)
        if not isinstance(size, int) or not 0 <= size <= MAX_PAGE_SIZE:
            raise ApiError(400, f"pageSize must be between 0 and {MAX_PAGE_SIZE}, got {size!r}.")
        size = size or DEFAULT_PAGE_SIZE
        order = body.get("orderBy", "timestamp asc")
        if order not in ("timestamp asc", "timestamp desc"):
            raise ApiError(400, f"orderBy must be 'timestamp asc' or 'timestamp desc': {order!r}")
        where, bounds = self._compile(str(body.get("filter", "")))
        projects = [str(n).split("/", 1)[1] for n in body["resourceNames"]]
        scope = " OR ".join("starts_with(log_name, ?)" for _ in projects)
        where = CompiledFilter(
            f"({scope}) AND {where.sql}", [f"projects/{p}/logs/" for p in projects] + where.params
        )
        key = _query_key(body)
        token = body.get("pageToken")
        after = _decode_token(token, key) if token else None
        page = self.table.page(
            where,
            after=after,
            size=size,
            descending=order == "timestamp desc",
            time_range=bounds,
            scan_budget=self.scan_budget,
        )
        with self._lock:
            self.answered += 1
            self.entries_served += len(page.raws)
        text = '{"entries":[' + ",".join(page.raws) + "]"
        if page.next_pos is not None:
            text += ',"nextPageToken":' + json.dumps(_encode_token(key, page.next_pos))
        return text + "}"


def make_http_server(service: LoggingService, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``service`` on host:port (port 0 picks a free one)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; without TCP_NODELAY, Nagle plus delayed ACKs
        # stall every keep-alive response by ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the demo print their own summaries

        def _send(self, code: int, text: str) -> None:
            raw = text.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            if urlsplit(self.path).path != "/v2/entries:list":
                err = ApiError(404, f"Method not found: {urlsplit(self.path).path}")
                return self._send(404, json.dumps(err.body()))
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("body is not an object")
            except ValueError as exc:
                return self._send(400, json.dumps(ApiError(400, f"Invalid JSON: {exc}").body()))
            kind, answer = service.list_entries(body)
            if kind == "drop":
                self.close_connection = True  # hang up without a status line
                return None
            if kind == "error":
                assert isinstance(answer, dict)
                return self._send(int(answer["error"]["code"]), json.dumps(answer))
            assert isinstance(answer, str)
            return self._send(200, answer)

        def do_GET(self) -> None:
            err = ApiError(404, "entries:list is a POST; nothing is served by GET.")
            self._send(404, json.dumps(err.body()))

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
