"""Read LogEntry JSON text out of exported log files, with where each entry sits.

Reads `gcloud logging read --format=json` output (one JSON array, usually pretty-printed),
newline-delimited LogEntry JSON (log sinks to GCS), and ``.gz`` of either. The format is
detected from the first non-blank character, not the file name. Memory stays bounded by a
batch (plus a read buffer) whatever the file size.

Entries are handed on as text untouched (parsing and typing happen later in DuckDB,
vectorized), with the line (and array element) that errors cite: one at a time
(``read_entries``), or in batches (``read_batches``: NDJSON in bulk as Arrow through
forensics.ndjson, arrays element by element through forensics.jsonarray).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

from forensics.batches import LineBatch, RawBatch, RawEntry
from forensics.errors import InputError
from forensics.jsonarray import read_array
from forensics.limits import container_end
from forensics.ndjson import ndjson_batches

__all__ = [
    "LineBatch",
    "RawBatch",
    "RawEntry",
    "detect_format",
    "open_text",
    "read_batches",
    "read_entries",
]

_CHUNK = 1 << 20
_WS = " \t\r\n"
_LATER_OBJECT = re.compile(r"[\r\n][ \t]*\{")


def open_text(path: Path) -> IO[str]:
    """Open a file for text reading, transparently gunzipping by magic number."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an export file") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    stream = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def detect_format(path: Path) -> str:
    """Return "json" (one array), "ndjson" (one entry per line) or "empty"."""
    with open_text(path) as fh:
        try:
            while True:
                chunk = fh.read(4096)
                if not chunk:
                    return "empty"
                stripped = chunk.lstrip(_WS + "\ufeff")
                if stripped:
                    first = stripped[0]
                    break
            if first != "{":
                stripped += fh.read(_CHUNK)
        except (OSError, EOFError, zlib.error) as err:
            raise InputError(f"{path}: file is damaged or truncated: {err}") from None
    if first == "[":
        return "ndjson" if _array_then_objects(stripped) else "json"
    if first == "{" or _LATER_OBJECT.search(stripped):
        # "{" for NDJSON. Any other first line (null, a number, stray text) with an object on
        # a later line is a bad first line of NDJSON, rejected by name while the rest loads;
        # a text log with no object in its first MiB is not an export at all.
        return "ndjson"
    raise InputError(
        f"{path}: line 1: not a log export (expected a JSON array or one JSON object per line, "
        f"found {first!r})"
    )


def _array_then_objects(head: str) -> bool:
    """True for NDJSON whose first line happens to be a JSON array ("[1]\n{...}\n"): the line
    is a whole JSON value and more follows. (A pretty-printed export's first line is "[".)"""
    line, newline, rest = head.partition("\n")
    if not newline or not rest.strip(_WS):
        return False
    try:
        json.loads(line)
    except RecursionError:  # too deep to parse, but it may still be one whole value
        return container_end(line, 0) == len(line.rstrip(_WS))
    except ValueError:
        return False
    return True


def read_entries(path: Path) -> Iterator[RawEntry]:
    """Yield every entry of an export file in order. Raises InputError for unreadable files.

    A malformed entry is still yielded (its text fails JSON validation downstream and is reported
    with its line); only damage that makes the rest of the file unreadable raises, after every
    entry before it has been yielded.
    """
    fmt = detect_format(path)
    if fmt == "empty":
        raise InputError(f"{path}: empty file, no entries")
    with open_text(path) as fh:
        try:
            if fmt == "ndjson":
                yield from _read_ndjson(fh)
            else:
                yield from read_array(path, fh)
        except (OSError, EOFError, gzip.BadGzipFile) as err:
            raise InputError(f"{path}: file is damaged or truncated: {err}") from None


def read_batches(path: Path, batch_size: int) -> Generator[RawBatch | LineBatch]:
    """Yield the file's entries in batches of ``batch_size`` lines (entries, for arrays).

    NDJSON is cut into Arrow in bulk (forensics.ndjson: no Python object per line; blank
    lines are passed through and skipped in SQL). Arrays go element by element through
    ``read_entries``.
    """
    fmt = detect_format(path)
    if fmt == "empty":
        raise InputError(f"{path}: empty file, no entries")
    if fmt == "json":
        yield from _array_batches(path, batch_size)
        return
    yield from ndjson_batches(path, batch_size)


def _array_batches(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """Batches of a JSON-array file; on damage, yield what came before it, then raise."""
    found: list[RawEntry] = []

    def flush() -> RawBatch:
        problems = [e.problem for e in found]
        batch = RawBatch(
            [e.line_no for e in found],
            [e.text for e in found],
            [e.element if e.element is not None else -1 for e in found],
            problems if any(p is not None for p in problems) else None,
        )
        found.clear()
        return batch

    try:
        for entry in read_entries(path):
            found.append(entry)
            if len(found) >= batch_size:
                yield flush()
    except InputError:
        if found:
            yield flush()
        raise
    if found:
        yield flush()


def _read_ndjson(fh: IO[str]) -> Iterator[RawEntry]:
    for line_no, line in enumerate(fh, start=1):
        text = line.strip(_WS)
        if text:
            yield RawEntry(line_no, text)
