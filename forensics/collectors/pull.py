"""The page loop every API pull shares: fetch under the quota, commit with the checkpoint, resume.

Usage:
  1. A collector implements ``PageSource``: ``fetch(token)`` makes one API call and returns the
     page's items and next token; ``commit(items, advance)`` writes the items in one
     transaction and calls ``advance(conn)`` inside it; ``last_time(items)`` and
     ``remaining(ckpt)`` say how far an ordered pull got.
  2. ``run_pull(ctx, ckpt, source)`` loops from the checkpoint's token until the last page, or
     until a call still fails after its retries: then the checkpoint is marked failed and what
     was not collected becomes a data gap. A later run resumes the same checkpoint.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import duckdb

from forensics.clock import Clock
from forensics.collectors.checkpoints import Checkpoint, Checkpoints, Range
from forensics.collectors.pacing import (
    CallStats,
    RetriesExhausted,
    RetryPolicy,
    TokenBucket,
    call_with_retries,
    describe_error,
    is_retryable,
)

__all__ = ["NullProgress", "PageSource", "Progress", "PullContext", "PullOutcome", "run_pull"]

Advance = Callable[[duckdb.DuckDBPyConnection], None]


class Progress(Protocol):
    """Where a pull reports how it is going (the CLI draws a progress bar from this)."""

    def start(self, key: str, title: str) -> None: ...

    def update(self, key: str, *, items: int, pages: int, fraction: float) -> None: ...

    def retry(self, key: str, error: str, delay_s: float) -> None: ...

    def finish(self, key: str, status: str) -> None: ...


class NullProgress:
    """Reports nowhere."""

    def start(self, key: str, title: str) -> None:
        pass

    def update(self, key: str, *, items: int, pages: int, fraction: float) -> None:
        pass

    def retry(self, key: str, error: str, delay_s: float) -> None:
        pass

    def finish(self, key: str, status: str) -> None:
        pass


class PageSource(Protocol):
    """One API's paging and storage, as the loop needs them."""

    def fetch(self, token: str | None) -> tuple[list[Any], str | None]: ...

    def commit(self, items: list[Any], advance: Advance) -> int: ...

    def last_time(self, items: list[Any]) -> datetime | None: ...

    def remaining(self, ckpt: Checkpoint) -> list[Range]: ...


@dataclass
class PullContext:
    """What every pull of one collection shares."""

    checkpoints: Checkpoints
    limiter: TokenBucket
    policy: RetryPolicy
    clock: Clock
    rng: random.Random
    stats: CallStats = field(default_factory=CallStats)
    progress: Progress = field(default_factory=NullProgress)


@dataclass
class PullOutcome:
    """How one pull ended."""

    source: str
    title: str
    status: str  # complete, failed, restarted (token refused, pulled again from its last entry)
    items: int = 0  # received this run
    stored: int = 0  # newly stored this run (after dedupe)
    pages: int = 0
    error: str | None = None
    permanent: bool = False  # failed on an error no retry can cure (400, 403, 404)
    gaps: list[Range] = field(default_factory=list)


class TokenCycle(Exception):
    """The API answered with a page token this pull had already sent: paging would not end."""

    def __init__(self, pages: int) -> None:
        super().__init__(
            f"the API gave back a page token it had already answered (after {pages} page(s)): "
            "stopped, as paging on would never end"
        )


def _fraction(ranges: Sequence[Range], reached: datetime | None) -> float:
    total = sum((b - a).total_seconds() for a, b in ranges) or 1.0
    if reached is None:
        return 0.0
    done = sum((min(b, reached) - a).total_seconds() for a, b in ranges if reached > a)
    return max(0.0, min(1.0, done / total))


def run_pull(
    ctx: PullContext,
    ckpt: Checkpoint,
    source: PageSource,
    *,
    title: str,
    covered_until: datetime,
) -> PullOutcome:
    """Page through one checkpointed pull; see the module docstring."""
    outcome = PullOutcome(ckpt.source, title, "complete")
    ctx.progress.start(ckpt.source, title)
    token = ckpt.page_token
    sent: set[str] = set()  # the tokens this pull sent: one coming back again is a loop

    def on_retry(err: BaseException, delay: float) -> None:
        ctx.progress.retry(ckpt.source, describe_error(err), delay)

    try:
        while True:
            items, next_token = call_with_retries(
                functools.partial(source.fetch, token),
                limiter=ctx.limiter,
                policy=ctx.policy,
                clock=ctx.clock,
                stats=ctx.stats,
                rng=ctx.rng,
                on_retry=on_retry,
            )
            advance = functools.partial(
                ctx.checkpoints.advance,
                ckpt=ckpt,
                next_token=next_token,
                last_timestamp=source.last_time(items),
                items=len(items),
                covered_until=covered_until,
            )
            outcome.stored += source.commit(items, advance)
            outcome.items += len(items)
            outcome.pages += 1
            fraction = 1.0 if next_token is None else _fraction(ckpt.ranges, ckpt.last_timestamp)
            ctx.progress.update(ckpt.source, items=ckpt.items, pages=ckpt.pages, fraction=fraction)
            if next_token is None:
                break
            if token is not None:
                sent.add(token)
            if next_token in sent:
                raise TokenCycle(outcome.pages)
            token = next_token
    except (RetriesExhausted, TokenCycle) as err:
        outcome.status = "failed"
        outcome.error = str(err)
        outcome.permanent = isinstance(err, RetriesExhausted) and not is_retryable(err.last)
        outcome.gaps = source.remaining(ckpt)
        ctx.checkpoints.fail(ckpt, outcome.error)
        ctx.checkpoints.record_gap(ckpt.source, outcome.gaps, outcome.error)
    else:
        done = [(a, min(b, covered_until)) for a, b in ckpt.ranges if a < covered_until]
        ctx.checkpoints.clear_gaps(ckpt.source, done)
    ctx.progress.finish(ckpt.source, outcome.status)
    return outcome
