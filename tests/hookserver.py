"""A real HTTP server on 127.0.0.1 that plays a webhook: scripted status codes, recorded bodies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Hook", "hook_server"]


@dataclass
class Hook:
    """The server's script (status codes, in order; the last one repeats) and what it got."""

    url: str
    statuses: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: dict[int, dict[str, str]] = field(default_factory=dict)  # extra headers by status


@contextmanager
def hook_server(
    statuses: list[int], headers: dict[int, dict[str, str]] | None = None
) -> Iterator[Hook]:
    """Serve on an ephemeral port until the block ends."""
    hook = Hook("", list(statuses), headers=headers or {})
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                hook.received.append(json.loads(body))
                hook.paths.append(self.path)
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
            self.send_response(status)
            for name, value in hook.headers.get(status, {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
