"""Load LogEntry JSON into the store in Arrow batches: normalize, dedupe, commit atomically.

Usage:
  1. ``ingest_files(store, paths)`` for export files, or ``ingest_texts(store, texts, source)``
     for entries already in memory (the API collectors use this with each page).
  2. Each batch is normalized in one DuckDB statement (forensics.normalize), then inserted in one
     transaction: an interrupted ingest leaves only complete batches, never half a row.
  3. Identity is the API's own, (log_name, insert_id, timestamp): re-ingesting a file or an
     overlapping export adds zero rows. Entries without an insertId get a content hash.
  4. Malformed entries are reported with their file and line; every valid entry is kept.
  5. ``before_commit(conn, result)`` runs inside each batch's transaction, just before COMMIT:
     the API collectors advance their checkpoint there, so a page and its checkpoint are
     committed together or not at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from forensics.errors import InputError
from forensics.normalize import normalize_sql
from forensics.readers import RawEntry, read_entries
from forensics.schema import column_names
from forensics.store import Store

__all__ = ["BATCH_SIZE", "IngestResult", "Rejection", "ingest_files", "ingest_texts"]

BATCH_SIZE = 50_000

_STORED = [c for c in column_names("log_entries") if c not in ("source", "ingest_id")]


@dataclass(frozen=True)
class Rejection:
    """One entry that was refused, and why."""

    source: str
    line_no: int
    element: int | None
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line_no}"
        if self.element is not None:
            where += f" (element {self.element})"
        return f"{self.source}: {where}: {self.problem}"


@dataclass
class IngestResult:
    """Counts for one source (or the sum over several)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # whole-file problems (missing, not JSON)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.rejections.extend(other.rejections)
        self.errors.extend(other.errors)

    @property
    def clean(self) -> bool:
        return not self.rejected and not self.errors


def _start_run(store: Store, source: str) -> int:
    row = store.conn.execute(
        "INSERT INTO ingest_runs (ingest_id, source, started, status) "
        "VALUES (nextval('ingest_id_seq'), ?, ?, 'running') RETURNING ingest_id",
        [source, datetime.now(UTC)],
    ).fetchone()
    assert row is not None
    return int(row[0])


def _finish_run(store: Store, ingest_id: int, result: IngestResult, status: str) -> None:
    store.conn.execute(
        "UPDATE ingest_runs SET finished = ?, accepted = ?, duplicates = ?, rejected = ?, "
        "status = ? WHERE ingest_id = ?",
        [
            datetime.now(UTC),
            result.accepted,
            result.duplicates,
            result.rejected,
            status,
            ingest_id,
        ],
    )


BeforeCommit = Callable[[duckdb.DuckDBPyConnection, "IngestResult"], None]


def _load_batch(
    store: Store,
    batch: list[RawEntry],
    source: str,
    ingest_id: int,
    minify: bool,
    before_commit: BeforeCommit | None = None,
) -> IngestResult:
    """Normalize and insert one batch in a single transaction."""
    conn = store.conn
    table = pa.table(
        {
            "line_no": pa.array([e.line_no for e in batch], pa.int64()),
            "line": pa.array([e.text for e in batch], pa.string()),
        }
    )
    elements = {e.line_no: e.element for e in batch} if minify else {}
    conn.register("batch", table)
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _normalized AS {normalize_sql(minify)}")
    finally:
        conn.unregister("batch")
    result = IngestResult()
    for line_no, problem in conn.execute(
        "SELECT line_no, problem FROM _normalized WHERE problem IS NOT NULL ORDER BY line_no"
    ).fetchall():
        result.rejections.append(Rejection(source, line_no, elements.get(line_no), problem))
    result.rejected = len(result.rejections)
    good = len(batch) - result.rejected
    cols = ", ".join(f'"{c}"' for c in _STORED)
    conn.execute("BEGIN TRANSACTION")
    try:
        row = conn.execute(
            f"""
            INSERT INTO log_entries ({cols}, source, ingest_id)
            SELECT {cols}, ?, ? FROM _normalized AS n
            WHERE n.problem IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM log_entries AS e
                  WHERE e."timestamp" = n."timestamp"
                    AND e.insert_id = n.insert_id
                    AND e.log_name = n.log_name
                    AND e."timestamp" BETWEEN (SELECT min("timestamp") FROM _normalized)
                                          AND (SELECT max("timestamp") FROM _normalized))
            QUALIFY row_number() OVER (
                PARTITION BY n.log_name, n.insert_id, n."timestamp" ORDER BY n.line_no) = 1
            """,
            [source, ingest_id],
        ).fetchone()
        result.accepted = int(row[0]) if row else 0
        result.duplicates = good - result.accepted
        conn.execute(
            "UPDATE ingest_runs SET accepted = accepted + ?, duplicates = duplicates + ?, "
            "rejected = rejected + ? WHERE ingest_id = ?",
            [result.accepted, result.duplicates, result.rejected, ingest_id],
        )
        if before_commit is not None:
            before_commit(conn, result)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("DROP TABLE IF EXISTS _normalized")
    return result


def _ingest_stream(
    store: Store,
    entries: Iterator[RawEntry],
    source: str,
    minify: bool,
    on_batch: Callable[[IngestResult], None] | None,
    batch_size: int,
    before_commit: BeforeCommit | None = None,
) -> IngestResult:
    ingest_id = _start_run(store, source)
    total = IngestResult()
    damage: list[str] = []

    def until_damage() -> Iterator[RawEntry]:
        # A file damaged half-way still yields every entry before the damage; stop there.
        try:
            yield from entries
        except InputError as err:
            damage.append(str(err))

    status = "failed"
    stream = until_damage()
    try:
        while batch := list(itertools.islice(stream, batch_size)):
            part = _load_batch(store, batch, source, ingest_id, minify, before_commit)
            total.add(part)
            if on_batch:
                on_batch(part)
        total.errors.extend(damage)
        status = "failed" if damage else "complete"
    finally:
        _finish_run(store, ingest_id, total, status)
    return total


def ingest_texts(
    store: Store,
    texts: Iterable[str],
    source: str,
    *,
    batch_size: int = BATCH_SIZE,
    before_commit: BeforeCommit | None = None,
) -> IngestResult:
    """Ingest LogEntry JSON strings (e.g. one API page); ``line_no`` counts entries from 1.

    ``before_commit`` runs in each batch's transaction (see the module docstring).
    """
    entries = (RawEntry(i, t) for i, t in enumerate(texts, start=1))
    return _ingest_stream(store, entries, source, False, None, batch_size, before_commit)


def ingest_files(
    store: Store,
    paths: Iterable[Path],
    *,
    on_batch: Callable[[IngestResult], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestResult:
    """Ingest export files; a bad file is reported and the others still load."""
    total = IngestResult()
    for path in paths:
        source = str(path)
        try:
            entries = read_entries(path)
            first = next(entries, None)  # surfaces missing/empty/not-JSON before a run row
        except InputError as err:
            total.errors.append(str(err))
            continue
        if first is None:
            total.errors.append(f"{path}: empty file, no entries")
            continue
        minify = first.element is not None
        stream = itertools.chain([first], entries)
        total.add(_ingest_stream(store, stream, source, minify, on_batch, batch_size))
    return total
