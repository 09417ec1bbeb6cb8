"""Load LogEntry JSON into the store in Arrow batches: normalize, dedupe, commit atomically.

Usage:
  1. ``ingest_files(store, paths)`` for export files, or ``ingest_texts(store, texts, source)``
     for entries already in memory (the API collectors use this with each page).
  2. Each batch is normalized in one DuckDB statement (forensics.normalize), then inserted in one
     transaction: an interrupted ingest leaves only complete batches, never half a row.
  3. Identity is the API's own, (log_name, insert_id, timestamp): re-ingesting a file or an
     overlapping export adds zero rows. Entries without an insertId get a content hash.
  4. Malformed entries are reported with their file and line; every valid entry is kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from forensics.errors import InputError
from forensics.normalize import normalize_sql
from forensics.readers import RawBatch, read_batches
from forensics.schema import column_names
from forensics.store import Store

__all__ = [
    "BATCH_SIZE",
    "IngestResult",
    "Rejection",
    "ingest_files",
    "ingest_texts",
    "normalized_batch",
]

# Entries per transaction. Larger batches amortize per-statement work and, past a DuckDB row
# group (122,880 rows), skip the WAL; smaller ones bound memory. 60k keeps peak RSS under 1 GB
# with ~1 KiB entries (benchmarks/bench_ingest.py measures both).
BATCH_SIZE = 60_000
# DuckDB's buffer pool during ingest; with a batch of text in Python this keeps RSS under 1 GB.
INGEST_MEMORY_LIMIT = "384MB"

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


# Runs inside a batch's transaction just before COMMIT (see ingest_texts).
BeforeCommit = Callable[[duckdb.DuckDBPyConnection], None]


def _load_batch(
    store: Store,
    batch: RawBatch,
    source: str,
    ingest_id: int,
    minify: bool,
    before_commit: BeforeCommit | None = None,
) -> IngestResult:
    """Normalize and insert one batch in a single transaction.

    Optimistic: the normalizing SELECT feeds the INSERT directly (built once, never copied to
    an intermediate table), skipping entries the store already holds. Only when the counts do
    not add up (malformed entries, duplicates) does a second, slim pass name the problems.
    """
    conn = store.conn
    with normalized_batch(conn, batch, minify) as normalized:
        entries = sum(1 for text in batch.texts if text and not text.isspace())
        lo, hi = conn.execute(
            "SELECT min(ts), max(ts) FROM (SELECT try(CAST(line->>'$.timestamp' AS TIMESTAMPTZ)) "
            "AS ts FROM batch WHERE line <> '')"
        ).fetchone() or (None, None)
        result = IngestResult()
        if lo is not None:
            result.accepted = _insert_new(
                conn, normalized, source, ingest_id, lo, hi, before_commit
            )
        elif before_commit is not None:  # nothing to insert; the caller's write still counts
            conn.execute("BEGIN TRANSACTION")
            try:
                before_commit(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if result.accepted < entries:
            problems = conn.execute(
                f"SELECT line_no, problem FROM ({normalize_sql(minify, check_only=True)}) "
                "WHERE problem IS NOT NULL ORDER BY line_no"
            ).fetchall()
            element_of = dict(zip(batch.line_nos, batch.elements or [], strict=False))
            for line_no, problem in problems:
                result.rejections.append(
                    Rejection(source, line_no, element_of.get(line_no), problem)
                )
        result.rejected = len(result.rejections)
        result.duplicates = entries - result.accepted - result.rejected
        conn.execute(
            "UPDATE ingest_runs SET accepted = accepted + ?, duplicates = duplicates + ?, "
            "rejected = rejected + ? WHERE ingest_id = ?",
            [result.accepted, result.duplicates, result.rejected, ingest_id],
        )
    return result


@contextmanager
def normalized_batch(
    conn: duckdb.DuckDBPyConnection, batch: RawBatch, minify: bool = False
) -> Iterator[str]:
    """Register ``batch`` and yield the normalizing SELECT (store columns, line_no, problem).

    Also used by `forensics classify`, so classifying a file normalizes exactly as ingest does.
    """
    conn.register(
        "batch",
        pa.table(
            {
                "line_no": pa.array(batch.line_nos, pa.int64()),
                "line": pa.array(batch.texts, pa.string()),
            }
        ),
    )
    try:
        yield normalize_sql(minify)
    finally:
        conn.unregister("batch")


def _insert_new(
    conn: duckdb.DuckDBPyConnection,
    normalized: str,
    source: str,
    ingest_id: int,
    lo: datetime,
    hi: datetime,
    before_commit: BeforeCommit | None = None,
) -> int:
    """Insert the batch's good entries that the store does not hold yet; return how many.

    Entries already stored are skipped by an anti-join on identity, restricted to the batch's
    time range so that zone maps prune the probe. Repeats inside the batch are then removed
    on the stored identity columns (cheap, and rare), in the same transaction.
    """
    cols = ", ".join(f'"{c}"' for c in _STORED)
    params = {"source": source, "ingest_id": ingest_id, "lo": lo, "hi": hi}
    conn.execute("BEGIN TRANSACTION")
    try:
        row = conn.execute(
            f"""
            INSERT INTO log_entries ({cols}, source, ingest_id)
            SELECT {cols}, $source, $ingest_id FROM ({normalized}) AS n
            WHERE n.problem IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM log_entries AS e
                  WHERE e."timestamp" BETWEEN $lo AND $hi
                    AND e."timestamp" = n."timestamp"
                    AND e.insert_id = n.insert_id
                    AND e.log_name = n.log_name)
            """,
            params,
        ).fetchone()
        inserted = int(row[0]) if row else 0
        repeats = conn.execute(
            """
            DELETE FROM log_entries WHERE rowid IN (
                SELECT rowid FROM log_entries
                WHERE "timestamp" BETWEEN $lo AND $hi
                QUALIFY row_number() OVER (
                    PARTITION BY log_name, insert_id, "timestamp" ORDER BY rowid) > 1)
            """,
            {"lo": lo, "hi": hi},
        ).fetchone()
        if before_commit is not None:
            before_commit(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return inserted - (int(repeats[0]) if repeats else 0)


def _ingest_stream(
    store: Store,
    batches: Iterator[RawBatch],
    source: str,
    minify: bool,
    on_batch: Callable[[IngestResult], None] | None,
    before_commit: BeforeCommit | None = None,
) -> IngestResult:
    ingest_id = _start_run(store, source)
    total = IngestResult()
    status = "failed"
    try:
        try:
            for batch in batches:
                part = _load_batch(store, batch, source, ingest_id, minify, before_commit)
                total.add(part)
                if on_batch:
                    on_batch(part)
            status = "complete"
        except InputError as err:
            # A file damaged half-way: every entry before the damage is already committed.
            total.errors.append(str(err))
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
    """Ingest LogEntry JSON strings (e.g. one API page); line numbers count entries from 1.

    ``before_commit(conn)`` runs inside each batch's transaction just before COMMIT: the API
    collectors advance their checkpoint there, so a page and its checkpoint are committed
    together or not at all.
    """
    items = list(texts)
    batches = (
        RawBatch(list(range(i + 1, i + 1 + len(chunk))), chunk)
        for i in range(0, len(items), batch_size)
        if (chunk := items[i : i + batch_size])
    )
    return _ingest_stream(store, batches, source, False, None, before_commit)


def ingest_files(
    store: Store,
    paths: Iterable[Path],
    *,
    on_batch: Callable[[IngestResult], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestResult:
    """Ingest export files; a bad file is reported and the others still load."""
    total = IngestResult()
    with _bounded_memory(store):
        for path in paths:
            try:
                batches = read_batches(path, batch_size)
                first = next(batches, None)  # surfaces missing/empty/not-JSON before a run row
            except InputError as err:
                total.errors.append(str(err))
                continue
            if first is None:
                total.errors.append(f"{path}: empty file, no entries")
                continue
            minify = first.elements is not None
            stream = itertools.chain([first], batches)
            total.add(_ingest_stream(store, stream, str(path), minify, on_batch))
    return total


@contextmanager
def _bounded_memory(store: Store) -> Iterator[None]:
    """Cap DuckDB's buffer pool while ingesting so a huge file cannot grow RSS without bound."""
    previous = store.scalar("SELECT current_setting('memory_limit')")
    order = store.scalar("SELECT current_setting('preserve_insertion_order')")
    store.conn.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    # Row order inside the table carries no meaning (queries order by timestamp); letting
    # DuckDB drop it saves buffering on insert.
    store.conn.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        store.conn.execute(f"SET memory_limit = '{previous}'")
        store.conn.execute(f"SET preserve_insertion_order = {order}")
