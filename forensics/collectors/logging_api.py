"""Cloud Logging ``entries.list`` through google-cloud-logging's HTTP client, one page at a time.

Why the private ``client._connection.api_request``: ``Client.list_entries`` returns a plain
generator that hides ``nextPageToken``, so nothing could be checkpointed between pages
(gcp-wire-facts §1.2). The connection object is the library's own authenticated HTTP path
(credentials, user agent, error mapping to ``google.api_core.exceptions``); only the page loop
is ours. Because the name is private, ``SUPPORTED_VERSIONS`` pins the library range it was
checked against and ``LoggingClient`` refuses anything else with a clear error.

HTTP, not gRPC: jsonPayload numbers keep their JSON types (gRPC turns ints into floats), the
same client talks to the emulator, and the HTTP path makes exactly one attempt per call, so our
pacing and backoff are the only retry policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forensics.collectors.auth import google_credentials
from forensics.collectors.checkpoints import Checkpoint, Range
from forensics.collectors.pull import Advance
from forensics.errors import CollectError
from forensics.ingest import BATCH_SIZE, ingest_texts
from forensics.store import Store, transaction
from forensics.timeutil import parse_rfc3339

__all__ = ["SUPPORTED_VERSIONS", "LogPages", "LoggingClient"]

SUPPORTED_VERSIONS = ((3, 10), (4, 0))  # [3.10, 4.0): checked against 3.17.0


def _check_version(version: str) -> None:
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    low, high = SUPPORTED_VERSIONS
    if len(parts) != 2 or not low <= parts < high:
        raise CollectError(
            f"google-cloud-logging {version} is not supported: the collector pages through the "
            f"library's HTTP connection, checked for versions {low[0]}.{low[1]} up to "
            f"(not including) {high[0]}.{high[1]}. Install a version in that range."
        )


class LoggingClient:
    """One project's ``entries.list`` calls."""

    def __init__(self, project: str, endpoint: str = "", timeout_s: float = 60.0) -> None:
        from google.cloud import logging as gcl
        from google.cloud.logging_v2 import __version__

        _check_version(__version__)
        self.project = project
        self.timeout_s = timeout_s
        if endpoint:
            from google.auth.credentials import AnonymousCredentials

            client = gcl.Client(
                project=project,
                credentials=AnonymousCredentials(),
                _use_grpc=False,
                client_options={"api_endpoint": endpoint},
            )
        else:
            client = gcl.Client(
                project=project, credentials=google_credentials(project), _use_grpc=False
            )
        connection = getattr(client, "_connection", None)
        if connection is None or not callable(getattr(connection, "api_request", None)):
            raise CollectError(
                f"google-cloud-logging {__version__} has no HTTP connection to page with"
            )
        self._connection = connection

    def list_page(self, filter_: str, page_token: str | None, page_size: int) -> dict[str, Any]:
        """One ``entries:list`` call; the raw JSON answer."""
        data: dict[str, Any] = {
            "resourceNames": [f"projects/{self.project}"],
            "filter": filter_,
            "orderBy": "timestamp asc",
            "pageSize": page_size,
        }
        if page_token:
            data["pageToken"] = page_token
        answer = self._connection.api_request(
            method="POST", path="/entries:list", data=data, timeout=self.timeout_s
        )
        return answer if isinstance(answer, dict) else {}


@dataclass
class LogPages:
    """The PageSource of one Logging pull: raw entries into the store via ``ingest_texts``."""

    client: LoggingClient
    store: Store
    source: str
    filter: str
    page_size: int

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= min(1000, BATCH_SIZE):
            raise CollectError(f"page_size must be between 1 and 1000, got {self.page_size}")

    def fetch(self, token: str | None) -> tuple[list[Any], str | None]:
        answer = self.client.list_page(self.filter, token, self.page_size)
        entries = answer.get("entries") or []
        return list(entries), answer.get("nextPageToken") or None

    def commit(self, items: list[Any], advance: Advance) -> int:
        if not items:  # an empty page with a token is legal: the search ran out of time
            conn = self.store.conn
            with transaction(conn):
                advance(conn)
            return 0
        texts = [json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in items]
        result = ingest_texts(self.store, texts, self.source, before_commit=advance)
        return result.accepted

    def last_time(self, items: list[Any]) -> datetime | None:
        for entry in reversed(items):  # ascending order: the last parsable one is the newest
            stamp = entry.get("timestamp") if isinstance(entry, dict) else None
            if isinstance(stamp, str):
                try:
                    return parse_rfc3339(stamp)
                except ValueError:
                    continue
        return None

    def remaining(self, ckpt: Checkpoint) -> list[Range]:
        reached = ckpt.last_timestamp
        if reached is None:
            return list(ckpt.ranges)
        # Entries at exactly `reached` may continue on the next page: keep it in the gap.
        return [(max(a, reached), b) for a, b in ckpt.ranges if b > reached]
