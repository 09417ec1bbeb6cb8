"""Webhook delivery against a real local HTTP server: retries, backoff, final failures, payload."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from forensics.errors import InputError
from forensics.watch.webhook import check_url, mask_url, post_json, slack_payload

from .hookserver import hook_server

PAYLOAD = {"text": "hello", "blocks": []}


def test_delivered_first_time() -> None:
    with hook_server([200]) as hook:
        delivery = post_json(hook.url, PAYLOAD, backoff_s=0.01)
    assert delivery.ok and delivery.attempts == 1 and delivery.status == 200
    assert hook.received == [PAYLOAD] and hook.paths == ["/services/T000/B000/secret-token"]


def test_500_then_200_is_retried() -> None:
    with hook_server([500, 200]) as hook:
        delivery = post_json(hook.url, PAYLOAD, backoff_s=0.01)
    assert delivery.ok and delivery.attempts == 2
    assert hook.received == [PAYLOAD, PAYLOAD]


def test_429_honours_retry_after() -> None:
    with hook_server([429, 200], headers={429: {"Retry-After": "0.3"}}) as hook:
        started = time.monotonic()
        delivery = post_json(hook.url, PAYLOAD, backoff_s=5.0)  # Retry-After wins over 5 s
        elapsed = time.monotonic() - started
    assert delivery.ok and delivery.attempts == 2 and len(hook.received) == 2
    assert 0.25 <= elapsed < 4


def test_client_error_is_final() -> None:
    with hook_server([404, 200]) as hook:
        delivery = post_json(hook.url, PAYLOAD, backoff_s=0.01)
    assert not delivery.ok and delivery.attempts == 1 and delivery.status == 404
    assert len(hook.received) == 1


def test_attempts_are_bounded_with_backoff() -> None:
    with hook_server([503]) as hook:
        started = time.monotonic()
        delivery = post_json(hook.url, PAYLOAD, attempts=3, backoff_s=0.1)
        elapsed = time.monotonic() - started
    assert not delivery.ok and delivery.attempts == 3 and delivery.error == "HTTP 503"
    assert len(hook.received) == 3
    assert elapsed >= 0.1 + 0.2  # waited 0.1 s, then 0.2 s


def test_unreachable_endpoint_fails_without_leaking_the_url() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/services/T000/B000/secret-token"
    delivery = post_json(url, PAYLOAD, attempts=2, backoff_s=0.01, timeout_s=2)
    assert not delivery.ok and delivery.attempts == 2 and delivery.status is None
    assert "secret-token" not in (delivery.error or "")
    assert mask_url(url) == f"http://127.0.0.1:{port}/…"


def test_stop_cuts_the_backoff_short() -> None:
    stop = threading.Event()
    with hook_server([500]) as hook:
        threading.Timer(0.2, stop.set).start()
        started = time.monotonic()
        delivery = post_json(hook.url, PAYLOAD, attempts=5, backoff_s=30, stop=stop)
        elapsed = time.monotonic() - started
    assert not delivery.ok and "stopped" in (delivery.error or "") and elapsed < 5


def test_bad_urls_are_usage_errors_without_the_value() -> None:
    for bad in ("hooks.slack.com/services/x", "ftp://host/x", "http:///nohost"):
        with pytest.raises(InputError) as err:
            check_url(bad)
        assert bad not in str(err.value)
    assert check_url("https://hooks.slack.com/services/T/B/x")


def test_slack_payload_escapes_and_respects_limits() -> None:
    lines = ["new unknown error: <!channel> & <http://evil|click>"] + [
        f"x{i} " * 60 for i in range(400)
    ]
    payload = slack_payload("forensics watch: needs attention", lines, "window the last 24h")
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header" and len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    assert "&lt;!channel&gt; &amp; &lt;http://evil|click&gt;" in sections[0]
    assert "<!channel>" not in payload["text"]
    assert "more sections not shown" in blocks[-1]["elements"][0]["text"]
