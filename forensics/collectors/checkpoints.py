"""Checkpoints, coverage and data gaps: what was collected, what is in flight, what is missing.

Usage:
  1. ``Checkpoints(store)``. Before a pull, ``unfinished(source, scope_hash)`` lists pulls a
     killed or failed run left behind (resume them first) and ``covered(source, scope_hash)``
     the time ranges already collected; ``subtract(window, covered)`` is what is left to pull.
  2. ``begin(...)`` opens a pull (or returns the one with the same exact query);
     ``advance(conn, ...)`` runs inside the page's own transaction, so a page and its
     checkpoint commit together; ``finish``/``fail`` close it.
  3. ``record_gap``/``clear_gaps`` keep ``data_gaps`` true: a source that failed after its
     retries is a gap until a later run collects that range.

  4. Late arrivals (Logging): each pull records the receive time its answer is complete up to
     (``received_until``); ``received(...)`` and ``arrived_since(...)`` say which collected
     ranges may have gained entries since, and from which receive time to pull them.

A pull's identity is the hash of its exact query; its scope hash leaves the time bounds out, so
any two pulls with the same scope collect the same kind of data and their ranges add up.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from forensics.store import Store, transaction

__all__ = ["Checkpoint", "Checkpoints", "arrived_since", "merge_ranges", "subtract"]

Range = tuple[datetime, datetime]


def merge_ranges(ranges: Sequence[Range], gap_s: float = 0.0) -> list[Range]:
    """Sort and merge ranges that overlap or lie within ``gap_s`` seconds of each other."""
    out: list[Range] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if out and (start - out[-1][1]).total_seconds() <= gap_s:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(ranges: Sequence[Range], covered: Sequence[Range]) -> list[Range]:
    """The parts of ``ranges`` not inside ``covered``."""
    left: list[Range] = []
    cover = merge_ranges(covered)
    for start, end in merge_ranges(ranges):
        cursor = start
        for c_start, c_end in cover:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor:
                left.append((cursor, c_start))
            cursor = max(cursor, c_end)
            if cursor >= end:
                break
        if cursor < end:
            left.append((cursor, end))
    return left


def arrived_since(
    pieces: Sequence[tuple[datetime, datetime, datetime]],
    wanted: Sequence[Range],
    received_until: datetime,
    late: timedelta,
) -> tuple[list[Range], datetime | None]:
    """What of ``wanted`` to pull again for entries that reached Cloud Logging late.

    ``pieces`` are ``Checkpoints.received``: collected ranges with the receive time each is
    complete up to. A part whose best such time is before ``received_until`` may have gained
    entries since; an entry arrives at most ``late`` after its timestamp, so only the last
    ``late`` before that time can have. Returns those ranges and the receive time to pull
    from (the earliest of theirs; anything received before it is already stored), or
    ``([], None)`` when nothing can have arrived.
    """
    want = merge_ranges(wanted)
    near = [p for p in pieces if any(p[0] < b and a < p[1] for a, b in want)]
    cuts = sorted({t for a, b, _ in near for t in (a, b)} | {t for r in want for t in r})
    todo: list[Range] = []
    since: datetime | None = None
    for lo, hi in itertools.pairwise(cuts):
        if not any(a <= lo and hi <= b for a, b in want):
            continue
        marks = [m for a, b, m in near if a <= lo and hi <= b]
        if not marks or max(marks) >= received_until:
            continue  # not collected yet (the ordinary pull's job), or collected just now
        mark = max(marks)
        start = max(lo, mark - late)
        if start < hi:
            todo.append((start, hi))
            since = mark if since is None else min(since, mark)
    return merge_ranges(todo), since


def _ranges_json(ranges: Sequence[Range]) -> str:
    return json.dumps([[a.isoformat(), b.isoformat()] for a, b in ranges])


def _parse_ranges(text: str) -> list[Range]:
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in json.loads(text)]


@dataclass
class Checkpoint:
    """One pull in progress (or done)."""

    source: str
    query_hash: str
    query: str
    ranges: list[Range]
    page_token: str | None
    last_timestamp: datetime | None
    pages: int
    items: int
    status: str
    received_until: datetime | None = None  # Logging: what had reached the API when it began


_COLUMNS = (
    "source, query_hash, query, ranges, page_token, last_timestamp, pages, items, status, "
    "received_until"
)


class Checkpoints:
    """The collect_checkpoints and data_gaps tables of one store."""

    def __init__(self, store: Store) -> None:
        self.conn = store.conn

    def _rows(self, where: str, params: list[object]) -> list[Checkpoint]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM collect_checkpoints WHERE {where} ORDER BY started", params
        ).fetchall()
        return [
            Checkpoint(r[0], r[1], r[2], _parse_ranges(r[3]), r[4], r[5], r[6], r[7], r[8], r[9])
            for r in rows
        ]

    def unfinished(self, source: str, scope_hash: str) -> list[Checkpoint]:
        """Pulls of this scope that a killed or failed run did not finish."""
        return self._rows(
            "source = ? AND scope_hash = ? AND status IN ('running', 'failed')",
            [source, scope_hash],
        )

    def covered(self, source: str, scope_hash: str) -> list[Range]:
        """Time ranges of this scope already collected (clipped at each pull's settle point)."""
        rows = self.conn.execute(
            "SELECT ranges, covered_until FROM collect_checkpoints "
            "WHERE source = ? AND scope_hash = ? AND status = 'complete'",
            [source, scope_hash],
        ).fetchall()
        out: list[Range] = []
        for ranges, until in rows:
            for start, end in _parse_ranges(ranges):
                end = min(end, until) if until is not None else end
                if start < end:
                    out.append((start, end))
        return merge_ranges(out)

    def received(self, source: str, scope_hash: str) -> list[tuple[datetime, datetime, datetime]]:
        """(start, end, received_until) of each collected range of this scope: entries of that
        range which Cloud Logging had received before ``received_until`` are in the store.

        A pull recorded before received_until existed counts as settled at its covered_until
        (never later than the receive time it really saw), so its range is checked again.
        """
        rows = self.conn.execute(
            "SELECT ranges, covered_until, received_until FROM collect_checkpoints "
            "WHERE source = ? AND scope_hash = ? AND status = 'complete' "
            "AND coalesce(received_until, covered_until) IS NOT NULL",
            [source, scope_hash],
        ).fetchall()
        out: list[tuple[datetime, datetime, datetime]] = []
        for ranges, until, received in rows:
            for start, end in _parse_ranges(ranges):
                end = min(end, until) if until is not None else end
                if start < end:
                    out.append((start, end, received or until))
        return out

    def begin(
        self,
        *,
        source: str,
        project: str,
        scope_hash: str,
        query_hash: str,
        query: str,
        ranges: Sequence[Range],
        received_until: datetime | None = None,
    ) -> Checkpoint:
        """Open a pull, or return the unfinished one with the same exact query.

        ``received_until`` (Logging): the receive time the API's answer is complete up to,
        this run's now minus settle_minutes; a resumed pull keeps the one it began with.
        """
        existing = self._rows("source = ? AND query_hash = ?", [source, query_hash])
        if existing and existing[-1].status != "complete":
            return existing[-1]
        now = datetime.now(UTC)
        self.conn.execute(
            "INSERT INTO collect_checkpoints (source, project, scope_hash, query_hash, query, "
            "ranges, window_start, window_end, status, started, updated, received_until) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            [
                source,
                project,
                scope_hash,
                query_hash,
                query,
                _ranges_json(ranges),
                min(r[0] for r in ranges),
                max(r[1] for r in ranges),
                now,
                now,
                received_until,
            ],
        )
        return Checkpoint(
            source, query_hash, query, list(ranges), None, None, 0, 0, "running", received_until
        )

    def advance(
        self,
        conn: duckdb.DuckDBPyConnection,
        ckpt: Checkpoint,
        *,
        next_token: str | None,
        last_timestamp: datetime | None,
        items: int,
        covered_until: datetime,
    ) -> None:
        """Record one committed page; the last page (no token) completes the pull.

        Runs on the caller's connection, inside the transaction that committed the page.
        """
        done = next_token is None
        conn.execute(
            "UPDATE collect_checkpoints SET page_token = ?, "
            "last_timestamp = coalesce(?, last_timestamp), pages = pages + 1, "
            "items = items + ?, status = ?, covered_until = ?, error = NULL, updated = ? "
            "WHERE source = ? AND query_hash = ?",
            [
                next_token,
                last_timestamp,
                items,
                "complete" if done else "running",
                covered_until if done else None,
                datetime.now(UTC),
                ckpt.source,
                ckpt.query_hash,
            ],
        )
        ckpt.page_token = next_token
        ckpt.last_timestamp = last_timestamp or ckpt.last_timestamp
        ckpt.pages += 1
        ckpt.items += items
        ckpt.status = "complete" if done else "running"

    def fail(self, ckpt: Checkpoint, error: str) -> None:
        self.conn.execute(
            "UPDATE collect_checkpoints SET status = 'failed', error = ?, updated = ? "
            "WHERE source = ? AND query_hash = ?",
            [error, datetime.now(UTC), ckpt.source, ckpt.query_hash],
        )
        ckpt.status = "failed"

    def close_at_last_entry(self, ckpt: Checkpoint) -> None:
        """Give up a pull whose page token the API no longer accepts (tokens live 24 h).

        What was committed stays collected: the pull's ranges are cut at its newest entry and
        it completes there, so the next pull of the scope starts at that entry, not at the
        beginning. With nothing committed the pull is simply dropped ('expired').
        """
        reached = ckpt.last_timestamp
        kept = [(a, min(b, reached)) for a, b in ckpt.ranges if reached and a < reached]
        self.conn.execute(
            "UPDATE collect_checkpoints SET status = ?, ranges = ?, covered_until = ?, "
            "page_token = NULL, updated = ? WHERE source = ? AND query_hash = ?",
            [
                "complete" if kept else "expired",
                _ranges_json(kept or ckpt.ranges),
                reached if kept else None,
                datetime.now(UTC),
                ckpt.source,
                ckpt.query_hash,
            ],
        )
        ckpt.status = "complete" if kept else "expired"

    def record_gap(self, source: str, ranges: Sequence[Range], reason: str) -> None:
        """Record the ranges that could not be collected (replacing older gaps they overlap)."""
        self._rewrite_gaps(source, ranges, reason)

    def clear_gaps(self, source: str, collected: Sequence[Range]) -> None:
        """Shrink or delete this source's gaps where ``collected`` now covers them."""
        self._rewrite_gaps(source, collected, None)

    def _rewrite_gaps(self, source: str, ranges: Sequence[Range], reason: str | None) -> None:
        """In one transaction: cut ``ranges`` out of the source's gaps, then (with a reason)
        add them back as one fresh gap per merged range."""
        rows = self.conn.execute(
            'SELECT start, "end", reason, recorded FROM data_gaps WHERE source = ?', [source]
        ).fetchall()
        if not rows and reason is None:
            return
        keep = [
            (a, b, why, when)
            for start, end, why, when in rows
            for a, b in subtract([(start, end)], ranges)
        ]
        now = datetime.now(UTC)
        if reason is not None:
            keep += [(a, b, reason, now) for a, b in merge_ranges(ranges)]
        with transaction(self.conn):
            self.conn.execute("DELETE FROM data_gaps WHERE source = ?", [source])
            for row in keep:
                self.conn.execute(
                    'INSERT INTO data_gaps (source, start, "end", reason, recorded) '
                    "VALUES (?, ?, ?, ?, ?)",
                    [source, *row],
                )
