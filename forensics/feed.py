"""Hand batches of LogEntry text to DuckDB as Arrow: a streaming feed, or one registered batch.

Both shapes carry ``line_no`` (what error messages cite), ``line`` (the entry's JSON text) and
``given_problem`` (a rejection the reader or the limits screen already decided, else NULL): the
relation ``batch`` that forensics.normalize reads. Every batch passes forensics.limits.screen
on its way, so an oversized or too deeply nested entry is cut or named before DuckDB sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from forensics.errors import InputError
from forensics.limits import screen
from forensics.normalize import normalize_sql
from forensics.readers import RawBatch

__all__ = ["BATCH_SCHEMA", "Feed", "normalized_batch", "record_batch"]

BATCH_SCHEMA = pa.schema(
    [("line_no", pa.int64()), ("line", pa.string()), ("given_problem", pa.string())]
)


def record_batch(batch: RawBatch, notes: list[tuple[int, str]] | None = None) -> pa.RecordBatch:
    """One batch of entries, screened, as an Arrow record batch of the ``batch`` relation.

    ``notes`` collects (line_no, what was cut) for entries the screen shortened.
    """
    screened = screen(batch.texts, batch.problems)
    if notes is not None:
        notes.extend((batch.line_nos[i], note) for i, note in screened.cut)
    problems = (
        pa.array(screened.problems, pa.string())
        if screened.problems is not None
        else pa.nulls(len(batch), pa.string())
    )
    return pa.RecordBatch.from_arrays(
        [pa.array(batch.line_nos, pa.int64()), pa.array(screened.texts, pa.string()), problems],
        schema=BATCH_SCHEMA,
    )


class Feed:
    """One chunk's small batches as an Arrow stream for a single INSERT; counts as it goes.

    Damage that ends the file part-way (an InputError from the reader) ends the stream instead
    of failing the statement, so every entry before it is still inserted; ``error`` keeps it
    for the caller to report once the chunk is committed.
    """

    def __init__(self, batches: Iterator[RawBatch]) -> None:
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
                self.entries += sum(1 for text in batch.texts if text and not text.isspace())
                yield record_batch(batch, self.notes)
        except InputError as err:
            self.error = err


@contextmanager
def normalized_batch(
    conn: duckdb.DuckDBPyConnection, batch: RawBatch, minify: bool = False
) -> Iterator[str]:
    """Register ``batch`` and yield the normalizing SELECT (store columns, line_no, problem).

    Also used by `forensics classify`, so classifying a file normalizes exactly as ingest does.
    """
    conn.register("batch", pa.Table.from_batches([record_batch(batch)]))
    try:
        yield normalize_sql(minify)
    finally:
        conn.unregister("batch")
