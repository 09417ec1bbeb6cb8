"""Webhook targets that misbehave: a URL with a bad port, an answer that is not HTTP, a redirect.

Each is met through `forensics diff --webhook` against a real store and a real socket on
127.0.0.1: one clear line, a documented exit code, no traceback, and never "posted" for a
message the endpoint did not take.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.snapshots import take_snapshots
from forensics.snapshots.state import Sources
from forensics.store import open_store
from forensics.watch.webhook import check_url, post_json

from .snapdata import EXIT3, ingest_spread

DAY = date(2025, 9, 16)


@pytest.fixture(scope="module")
def loud_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store whose diff of DAY needs attention (a new signature), so diff posts."""
    tmp = tmp_path_factory.mktemp("hook")
    registry = tmp / "issues.yaml"
    registry.write_text("version: 1\nissues: []\n")
    db = tmp / "d.duckdb"
    with open_store(db) as store:
        ingest_spread(store, {(EXIT3, "svc-a"): {DAY: 3}})
        take_snapshots(store, [DAY - timedelta(days=1), DAY], Sources.load(registry))
    return str(db)


def _diff(runner: CliRunner, db: str, url: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["diff", "--db", db, "--date", DAY.isoformat(), "--baseline", "1d", "--json",
         "--webhook", url, "--webhook-attempts", "2", "--webhook-backoff", "0"],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_a_webhook_url_with_a_bad_port_is_a_usage_error(
    runner: CliRunner, loud_db: str, port: str
) -> None:
    url = f"http://127.0.0.1:{port}/services/T000/B000/secret-token"
    with pytest.raises(Exception) as err:
        check_url(url)
    assert "secret-token" not in str(err.value)
    code, output = _diff(runner, loud_db, url)
    assert code == 2, output
    assert "error: --webhook" in output and "secret-token" not in output
    watch = runner.invoke(
        app, ["watch", "--db", loud_db, "--no-collect", "--iterations", "1", "--webhook", url]
    )
    assert watch.exit_code == 2 and "error: --webhook" in watch.output, watch.output
    assert isinstance(watch.exception, SystemExit) and "secret-token" not in watch.output


@contextmanager
def raw_server(answer: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """A TCP server on 127.0.0.1 that reads a request and writes ``answer`` verbatim."""
    seen: list[bytes] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                seen.append(conn.recv(65536).split(b"\r\n", 1)[0])
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/services/T000/B000/secret-token", seen
    finally:
        stop.set()
        thread.join(5)
        sock.close()


NOT_HTTP = {
    "garbage": b"\x1b[31mthis is not http\x1b[0m\r\n\r\n",
    "too many headers": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-%d: a\r\n" % i for i in range(150))
    + b"\r\n",
}


@pytest.mark.parametrize("answer", NOT_HTTP.values(), ids=NOT_HTTP.keys())
def test_an_answer_that_is_not_http_is_a_failed_delivery(
    runner: CliRunner, loud_db: str, answer: bytes
) -> None:
    with raw_server(answer) as (url, seen):
        delivery = post_json(url, {"text": "x"}, attempts=2, backoff_s=0)
        assert not delivery.ok and delivery.attempts == 2 and len(seen) == 2  # retried
        assert "\x1b" not in (delivery.error or "") and "secret-token" not in (delivery.error or "")
        code, output = _diff(runner, loud_db, url)
    assert code == 1, output  # the diff's own answer: it needs attention
    assert "webhook http://127.0.0.1:" in output and "failed after 2 attempt(s)" in output
    assert "Traceback" not in output and "\x1b" not in output


REDIRECTS = [301, 302, 303, 307, 308]


@pytest.mark.parametrize("status", REDIRECTS)
def test_a_redirect_is_not_followed_nor_called_delivered(
    runner: CliRunner, loud_db: str, status: int
) -> None:
    """A 302 to a page that answers 200 was followed as a GET without the body, and reported
    as "posted": the alert was lost while the log said it went out."""
    with raw_server(b"") as (landing, landed):
        pass  # only its URL: nothing may reach it
    answer = (
        f"HTTP/1.1 {status} Moved\r\nLocation: {landing}\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with raw_server(answer) as (url, seen):
        delivery = post_json(url, {"text": "x"}, attempts=3, backoff_s=0)
        code, output = _diff(runner, loud_db, url)
    assert not delivery.ok and delivery.status == status and delivery.attempts == 1
    assert "redirect" in (delivery.error or "")
    assert len(seen) == 2 and all(line.startswith(b"POST ") for line in seen)
    assert landed == []
    assert code == 1 and "posted to" not in output, output
    assert f"failed after 1 attempt(s): HTTP {status}" in output
