"""Stay under an API's per-minute quota and retry what is worth retrying, with full jitter.

Usage:
  1. One ``TokenBucket`` per (API, project): ``acquire()`` before every call. With a burst of
     ``b`` and a rate of ``r`` per minute, no 60-second window ever holds more than ``b + r``
     calls, so ``r + b <= quota`` keeps a collector under the quota on its own.
  2. ``call_with_retries(fn, limiter, policy, clock, stats)`` runs one API call: it waits for a
     token, calls, and on a retryable error (429, 503, 500, 504, connection reset, timeout)
     sleeps a full-jitter backoff (uniform in [0, min(cap, base * 2**attempt)]) and tries again,
     at most ``policy.attempts`` times. The last error is raised as ``RetriesExhausted``.

Why by hand: the Logging client's HTTP path makes exactly one attempt per call, and the
Monitoring client's built-in retry sleeps on the real clock and ignores RESOURCE_EXHAUSTED.
Other people share the project's quota (the console, other tools), so 429s happen even when we
pace ourselves; full jitter keeps several clients from retrying in lockstep
(https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from google.api_core import exceptions as gexc

from forensics.clock import Clock
from forensics.textclip import clip

__all__ = [
    "CallStats",
    "RetriesExhausted",
    "RetryPolicy",
    "TokenBucket",
    "call_with_retries",
    "is_retryable",
]

T = TypeVar("T")

# 429 (TooManyRequests also covers gRPC's ResourceExhausted), 500, 503, 504 and gRPC's
# DEADLINE_EXCEEDED are transient by Google's own guidance; 400/403/404 never get better.
_RETRYABLE_API = (
    gexc.TooManyRequests,
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.GatewayTimeout,
    gexc.DeadlineExceeded,
)
_RETRYABLE_NET = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    ConnectionError,
    TimeoutError,
)


def is_retryable(err: BaseException) -> bool:
    """True for errors a later attempt can cure: quota, overload, dropped connections."""
    return isinstance(err, _RETRYABLE_API + _RETRYABLE_NET)


class RetriesExhausted(Exception):
    """An API call still failed after every allowed attempt (or failed for good at once)."""

    def __init__(self, last: BaseException, attempts: int) -> None:
        super().__init__(f"{describe_error(last)} (after {attempts} attempt(s))")
        self.last = last
        self.attempts = attempts


def describe_error(err: BaseException) -> str:
    """A one-line description of an API error, without URLs that could carry tokens: an HTML
    error page (a proxy's 502) is its text without the markup, and a long one is cut with
    "…" (a gap's reason and a retry's progress line are read in a terminal and a report)."""
    if isinstance(err, gexc.GoogleAPICallError):
        code = err.code if err.code is not None else "?"
        message = str(err.message).split(": ", 1)[-1] if err.message else type(err).__name__
        said = f"{code} {type(err).__name__}: {_text_of(message)}"
    else:
        said = f"{type(err).__name__}: {_text_of(str(err))}"
    return clip(said, 300)


_MARKUP = re.compile(r"<[^>]*>")


def _text_of(message: str) -> str:
    """``message`` on one line; an HTML page's text without its tags."""
    if "<html" in message.lower() or "<!doctype" in message.lower():
        message = _MARKUP.sub(" ", message)
    return " ".join(message.split())


@dataclass
class TokenBucket:
    """Calls per minute with a small burst, on an injectable clock."""

    per_minute: float
    clock: Clock
    burst: int = 1
    _tokens: float = field(init=False)
    _last: float = field(init=False)
    waited_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError("per_minute must be positive and burst at least 1")
        self._tokens = float(self.burst)
        self._last = self.clock.now()

    def _refill(self) -> None:
        now = self.clock.now()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate_s)
        self._last = now

    @property
    def rate_s(self) -> float:
        return self.per_minute / 60.0

    def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        self._refill()
        waited = 0.0
        while self._tokens < 1.0:
            wait = (1.0 - self._tokens) / self.rate_s
            self.clock.sleep(wait)
            waited += wait
            self._refill()
        self._tokens -= 1.0
        self.waited_s += waited
        return waited


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter."""

    attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The sleep before retry number ``attempt`` (0-based)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2.0**attempt))


@dataclass
class CallStats:
    """What the calls of one collection cost."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0  # 429 / RESOURCE_EXHAUSTED answers
    unavailable: int = 0  # 503 / UNAVAILABLE answers
    network_errors: int = 0
    backoff_s: float = 0.0

    def add(self, other: CallStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count_error(self, err: BaseException) -> None:
        if isinstance(err, gexc.TooManyRequests):
            self.throttled += 1
        elif isinstance(err, gexc.ServiceUnavailable):
            self.unavailable += 1
        elif isinstance(err, _RETRYABLE_NET):
            self.network_errors += 1


def call_with_retries(
    fn: Callable[[], T],
    *,
    limiter: TokenBucket,
    policy: RetryPolicy,
    clock: Clock,
    stats: CallStats,
    rng: random.Random,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Run ``fn`` under the quota, retrying transient errors; raise ``RetriesExhausted``."""
    for attempt in range(policy.attempts):
        limiter.acquire()
        stats.calls += 1
        try:
            return fn()
        except Exception as err:
            stats.count_error(err)
            if not is_retryable(err) or attempt == policy.attempts - 1:
                raise RetriesExhausted(err, attempt + 1) from err
            delay = policy.delay(attempt, rng)
            stats.retries += 1
            stats.backoff_s += delay
            if on_retry is not None:
                on_retry(err, delay)
            clock.sleep(delay)
    raise AssertionError("unreachable: attempts must be at least 1")
