"""Paging against a Logging endpoint whose page tokens never end: the pull stops, and says so.

An empty page with a nextPageToken is legal (the search ran out of time; the next token moves
on). A token that comes back again (the one just sent, or any sent before) would be fetched
forever: `collect` never ended, and `watch`, which collects every run, hung on its first run.
The server below is a real HTTP server on 127.0.0.1 driven by google-cloud-logging.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from forensics.clock import FastForwardClock
from forensics.store import Store
from tests import gcp_data as g

GIVE_UP_AFTER = 25  # the server ends a pull itself after this many calls (so a bug cannot hang)


@contextmanager
def looping_logging(cycle: list[str]) -> Iterator[Any]:
    """entries:list answers empty pages whose next token walks ``cycle`` round and round."""
    calls: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                key = str(body.get("filter"))
                calls[key] = calls.get(key, 0) + 1
                n = calls[key]
            token = body.get("pageToken")
            answer: dict[str, Any] = {"entries": []}
            if n < GIVE_UP_AFTER:
                at = cycle.index(token) + 1 if token in cycle else 0
                answer["nextPageToken"] = cycle[at % len(cycle)]
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Endpoint:
        logging_endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        monitoring_endpoint = "127.0.0.1:1"  # never called: metrics are off
        clock = FastForwardClock()
        requests = calls

    try:
        yield Endpoint
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("cycle", [["same"], ["a", "b", "c"]], ids=["same token", "a cycle"])
def test_a_page_token_that_comes_back_ends_the_pull_as_a_gap(
    store: Store, cycle: list[str]
) -> None:
    with looping_logging(cycle) as endpoint:
        report = g.collect_from(store, endpoint, metrics=False)
    assert report.outcomes and endpoint.requests
    # each pull stops at the first token it had already sent: one pass round the cycle, + 1
    assert max(endpoint.requests.values()) == len(cycle) + 1 < GIVE_UP_AFTER
    for outcome in report.outcomes:
        assert outcome.status == "failed", outcome
        assert "page token" in (outcome.error or "") and outcome.gaps
    gaps = store.scalar("SELECT count(DISTINCT source) FROM data_gaps")
    assert gaps == len({o.source for o in report.outcomes})
