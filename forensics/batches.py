"""Batches of LogEntry text on their way into DuckDB: Python lists, or Arrow built in bulk.

A batch is consecutive entries with the lines (and, for JSON arrays, the element indexes) that
error messages cite. ``RawBatch`` holds Python strings: JSON-array elements and API pages.
``LineBatch`` holds an NDJSON file's lines as Arrow arrays cut straight out of the file's bytes
(forensics.ndjson), already screened: no Python object per entry. Both turn into record batches
of ``BATCH_SCHEMA``, the relation ``batch`` that forensics.normalize reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa

from forensics.limits import screen

__all__ = ["BATCH_SCHEMA", "LineBatch", "RawBatch", "RawEntry", "record_batch"]

# line_no: what error messages cite; line: the entry's JSON text; given_problem: a rejection
# the reader or the limits screen already decided, else NULL.
BATCH_SCHEMA = pa.schema(
    [("line_no", pa.int64()), ("line", pa.string()), ("given_problem", pa.string())]
)


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry's JSON text and its place in the file."""

    line_no: int  # 1-based line where the entry starts
    text: str
    element: int | None = None  # 0-based array index, for JSON-array files
    problem: str | None = None  # why the reader could not hand over the entry itself


@dataclass(frozen=True, slots=True)
class RawBatch:
    """Consecutive entries' JSON texts with their line numbers (and array indexes)."""

    line_nos: list[int]
    texts: list[str]
    elements: list[int] | None = None  # 0-based array indexes, for JSON-array files
    # Per text, a problem the reader found itself (e.g. too large to load); None if none.
    problems: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def entries(self) -> int:
        """Non-blank texts: what should come out as stored or rejected entries."""
        return sum(1 for text in self.texts if text and not text.isspace())

    def record_batches(self, notes: list[tuple[int, str]] | None = None) -> list[pa.RecordBatch]:
        return [record_batch(self, notes)]


@dataclass(frozen=True)
class LineBatch:
    """Consecutive NDJSON lines as screened Arrow record batches of ``BATCH_SCHEMA``."""

    parts: list[pa.RecordBatch]
    lines: int  # all lines, blank ones included
    entries: int  # non-blank lines
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line_no, what was cut)
    elements: None = None  # never from an array

    def __len__(self) -> int:
        return self.lines

    @cached_property
    def line_nos(self) -> list[int]:
        return [n for part in self.parts for n in part.column(0).to_pylist()]

    @cached_property
    def texts(self) -> list[str]:
        return [t for part in self.parts for t in part.column(1).to_pylist()]

    @cached_property
    def problems(self) -> list[str | None]:
        """Per text, what the screen rejected it for (its text is then a placeholder)."""
        return [p for part in self.parts for p in part.column(2).to_pylist()]

    def record_batches(self, notes: list[tuple[int, str]] | None = None) -> list[pa.RecordBatch]:
        if notes is not None:
            notes.extend(self.notes)
        return self.parts


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
