"""Hand batches of LogEntry text to DuckDB as Arrow: a streaming feed, or one registered batch.

Every batch (forensics.batches) passes forensics.limits.screen on its way, so an oversized or
too deeply nested entry is cut or named before DuckDB sees it, and arrives as record batches
of ``line_no`` (what error messages cite), ``line`` (the entry's JSON text) and
``given_problem`` (a rejection already decided, else NULL): the relation ``batch`` that
forensics.normalize reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from forensics.batches import BATCH_SCHEMA, LineBatch, RawBatch, record_batch
from forensics.errors import InputError
from forensics.normalize import normalize_sql

__all__ = ["BATCH_SCHEMA", "Feed", "normalized_batch", "record_batch"]


class Feed:
    """One chunk's small batches as an Arrow stream for a single INSERT; counts as it goes.

    Damage that ends the file part-way (an InputError from the reader) ends the stream instead
    of failing the statement, so every entry before it is still inserted; ``error`` keeps it
    for the caller to report once the chunk is committed.
    """

    def __init__(self, batches: Iterator[RawBatch | LineBatch]) -> None:
        self._batches = batches
        self.batches = 0
        self.lines = 0
        self.entries = 0  # non-blank lines
        self.error: InputError | None = None
        self.notes: list[tuple[int, str]] = []  # (line_no, what was cut) of shortened entries

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(BATCH_SCHEMA, self._record_batches())

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                self.batches += 1
                self.lines += len(batch)
                self.entries += batch.entries
                yield from batch.record_batches(self.notes)
        except InputError as err:
            self.error = err


@contextmanager
def normalized_batch(
    conn: duckdb.DuckDBPyConnection, batch: RawBatch | LineBatch, minify: bool = False
) -> Iterator[str]:
    """Register ``batch`` and yield the normalizing SELECT (store columns, line_no, problem).

    Also used by `forensics classify`, so classifying a file normalizes exactly as ingest does.
    """
    conn.register("batch", pa.Table.from_batches(batch.record_batches(), BATCH_SCHEMA))
    try:
        yield normalize_sql(minify)
    finally:
        conn.unregister("batch")
