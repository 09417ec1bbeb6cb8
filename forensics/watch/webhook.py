"""POST findings to a Slack-compatible webhook, with bounded retries and backoff.

The payload is Slack's incoming-webhook shape, ``{"text": ..., "blocks": [...]}``: ``text`` is
the fallback for notifications and for chat tools that ignore blocks. Log text inside it is
escaped (``&``, ``<``, ``>``), so a message cannot turn into a link or a mention. The URL of a
webhook is a secret (it carries the token): it is never printed; ``mask_url`` keeps the host.

Retries: a connection error, a timeout, an answer that is not HTTP, 429 and 5xx are retried up
to ``attempts`` times in all, waiting ``backoff_s * 2**(n-1)`` (or the server's Retry-After, at
most 60 s) between attempts; other 4xx answers are final, and so is a redirect (not followed:
urllib would re-send a POST as a GET without its body). A stop request cuts the wait short.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from forensics.errors import InputError
from forensics.redact import redact_obj, redact_text

__all__ = ["Delivery", "check_url", "mask_url", "post_json", "slack_payload"]

MAX_WAIT_S = 60.0
_SECTION_CHARS = 2900  # Slack: a section's text is at most 3000 characters
_MAX_SECTIONS = 40  # Slack: at most 50 blocks per message


@dataclass(frozen=True)
class Delivery:
    """How a POST went: delivered or not, after how many attempts, the last status or error."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def mask_url(url: str) -> str:
    """'https://hooks.slack.com/…': enough to recognise the target, not the token in it."""
    parts = urlsplit(url)
    return (
        f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}/…"
    )


def check_url(url: str) -> str:
    """The URL if it is http(s) with a host; InputError (without the secret URL) if not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("--webhook: not an http(s) URL with a host (the value is not shown)")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise InputError(
            "--webhook: the port is not a number from 0 to 65535 (the value is not shown)"
        ) from None
    return url


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(title: str, lines: list[str], footer: str = "") -> dict[str, Any]:
    """A Slack message: a header, the findings as bullet sections, and a context footer."""
    # Redacted before escaping: `&` becoming `&amp;` would hide a `&sig=` from the rules.
    title, footer = redact_text(title), redact_text(footer)
    bullets = [f"• {_slack_escape(redact_text(line))}" for line in lines]
    sections: list[str] = []
    for bullet in bullets:
        if sections and len(sections[-1]) + len(bullet) + 1 <= _SECTION_CHARS:
            sections[-1] += "\n" + bullet
        else:
            sections.append(bullet[:_SECTION_CHARS])
    dropped = max(0, len(sections) - _MAX_SECTIONS)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}
    ]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        for text in sections[:_MAX_SECTIONS]
    ]
    notes = [footer] if footer else []
    if dropped:
        notes.append(f"{dropped} more sections not shown")
    if notes:
        context = {"type": "mrkdwn", "text": _slack_escape(" · ".join(notes))}
        blocks.append({"type": "context", "elements": [context]})
    summary = "\n".join([_slack_escape(title), *bullets[:20]])
    return {"text": summary, "blocks": blocks}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would follow a 301/302/303 as a GET
    without the body (and call the message delivered when that page answers 200)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def _retry_after(err: urllib.error.HTTPError) -> float | None:
    value = err.headers.get("Retry-After") if err.headers else None
    try:
        return min(MAX_WAIT_S, max(0.0, float(value))) if value else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 10.0,
    stop: threading.Event | None = None,
) -> Delivery:
    """POST ``payload`` as JSON; retry as the module docstring says. Never raises for HTTP.

    Every string of the payload passes the one redaction first: a webhook posts log text to
    a third party, unattended.
    """
    body = json.dumps(redact_obj(payload)).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "forensics-watch"}
    status: int | None = None
    error = ""
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=timeout_s) as response:
                return Delivery(True, attempt, response.status)
        except urllib.error.HTTPError as err:
            status, error = err.code, f"HTTP {err.code}"
            if 300 <= err.code < 400:
                error += " (a redirect, not followed: give --webhook the URL it points to)"
            if err.code != 429 and err.code < 500:
                return Delivery(False, attempt, status, error)
            wait = _retry_after(err)
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            status = None
            reason = getattr(err, "reason", err)
            error = f"{type(err).__name__}: {reason}"
        except http.client.HTTPException as err:  # an answer that is not HTTP: retried
            status = None
            # the server's own bytes: controls neutralised, cut to one short line
            error = f"not an HTTP answer: {type(err).__name__}: {redact_text(str(err))[:120]}"
        if attempt == attempts:
            break
        delay = wait if wait is not None else min(MAX_WAIT_S, backoff_s * 2 ** (attempt - 1))
        if stop is None:
            time.sleep(delay)
        elif stop.wait(delay):
            return Delivery(False, attempt, status, f"{error}; stopped before retrying")
    return Delivery(False, attempts, status, error)
