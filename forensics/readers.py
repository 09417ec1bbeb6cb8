"""Stream LogEntry JSON text out of exported log files, one entry at a time, with its line.

Reads `gcloud logging read --format=json` output (one JSON array, usually pretty-printed),
newline-delimited LogEntry JSON (log sinks to GCS), and ``.gz`` of either. The format is
detected from the first non-blank character, not the file name. Memory stays bounded by one
entry (plus a read buffer) whatever the file size.

Each yielded ``RawEntry`` carries the entry's text untouched (parsing and typing happen later
in DuckDB, vectorized), and where it sits in the file so that errors can name it.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from forensics.errors import InputError
from forensics.limits import MAX_ENTRY_CHARS, container_end, too_large

__all__ = ["RawBatch", "RawEntry", "detect_format", "open_text", "read_batches", "read_entries"]

_CHUNK = 1 << 20
# An array element larger than MAX_ENTRY_CHARS is a syntax error we failed to see, or an entry
# past the limit; either way the array cannot be followed past it.
_MAX_ELEMENT_CHARS = MAX_ENTRY_CHARS
_WS = " \t\r\n"
_LATER_OBJECT = re.compile(r"[\r\n][ \t]*\{")
# Stands in for an entry the reader rejected itself (too large to hold): tiny, and rejected
# with the reader's problem, never parsed.
PLACEHOLDER = "{}"


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
                yield from _read_array(path, fh)
        except (OSError, EOFError, gzip.BadGzipFile) as err:
            raise InputError(f"{path}: file is damaged or truncated: {err}") from None


def read_batches(path: Path, batch_size: int) -> Generator[RawBatch]:
    """Yield the file's entries in batches of ``batch_size`` lines (entries, for arrays).

    NDJSON is read with ``readlines`` in bulk (no per-line Python objects; blank lines are
    passed through and skipped in SQL), which keeps the Python side far below DuckDB's own
    parsing cost. Arrays go element by element through ``read_entries``.
    """
    fmt = detect_format(path)
    if fmt == "empty":
        raise InputError(f"{path}: empty file, no entries")
    if fmt == "json":
        yield from _array_batches(path, batch_size)
        return
    yield from _ndjson_batches(path, batch_size)


def _ndjson_batches(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """Batches of an NDJSON file's lines, split in bulk (no Python work per line).

    Lines end at "\n" (also "\r\n"), or at "\r" in a file with no "\n" at all (old Mac line
    endings; a JSON string cannot hold a raw CR, so this never splits an entry). A UTF-8 byte
    order mark is dropped. A line longer than MAX_ENTRY_CHARS is skipped as it streams by (never
    held whole) and comes out as a placeholder with its problem.
    """
    next_line = 1
    texts: list[str] = []
    problems: dict[int, str] = {}  # index in texts -> the reader's own rejection (rare)
    parts: list[str] = []  # the unfinished last line so far
    held = 0  # its length
    skipped = 0  # > 0 while skipping an over-long line: its length so far
    sep: str | None = None
    chunks = _text_chunks(path)
    while True:
        try:
            chunk = next(chunks, None)
        except InputError:
            # Damage part-way: every complete line before it is handed on (the unfinished
            # last one is the damage), then the error.
            if texts:
                yield _batch(next_line, texts, problems)
            raise
        if chunk is None:
            break
        if sep is None:
            if next_line == 1 and not texts and not parts and chunk.startswith("\ufeff"):
                chunk = chunk[1:]
            sep = "\n" if "\n" in chunk else "\r" if "\r" in chunk else None
        # Split on the separator only: str.splitlines would also split on U+2028 and friends,
        # which a JSON string may legally hold.
        pieces = chunk.split(sep) if sep else [chunk]
        if len(pieces) > 1:
            first = pieces[0]
            if skipped or held + len(first) > MAX_ENTRY_CHARS:
                problems[len(texts)] = too_large(skipped + held + len(first))
                texts.append(PLACEHOLDER)
            else:
                texts.append("".join([*parts, first]) if parts else first)
            parts, held, skipped = [], 0, 0
            texts.extend(pieces[1:-1])
        tail = pieces[-1]
        if skipped:
            skipped += len(tail)
        elif held + len(tail) > MAX_ENTRY_CHARS:
            skipped, parts, held = held + len(tail), [], 0
        elif tail:
            parts.append(tail)
            held += len(tail)
        # Exactly batch_size lines per batch: ingest sizes its statements in whole DuckDB row
        # groups, and a batch a few lines over would leave a partial row group behind each one.
        while len(texts) >= batch_size:
            yield _batch(next_line, texts[:batch_size], problems)
            next_line += batch_size
            texts = texts[batch_size:]
            problems = {i - batch_size: p for i, p in problems.items() if i >= batch_size}
    if skipped:
        problems[len(texts)] = too_large(skipped)
        texts.append(PLACEHOLDER)
    elif parts:
        texts.append("".join(parts))
    if texts:
        yield _batch(next_line, texts, problems)


def _batch(first_line: int, texts: list[str], problems: dict[int, str]) -> RawBatch:
    found: list[str | None] | None = None
    if problems:
        found = [None] * len(texts)
        for i, problem in problems.items():
            if i < len(texts):
                found[i] = problem
    return RawBatch(list(range(first_line, first_line + len(texts))), texts, problems=found)


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


def _text_chunks(path: Path) -> Iterator[str]:
    """Decoded text of a plain or gzipped file, chunk by chunk.

    Decompresses with zlib directly rather than GzipFile so that a truncated .gz still yields
    every byte before the cut (GzipFile raises and drops what the failing read had inflated),
    then raises InputError. Concatenated gzip members are followed.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        raw = path.open("rb")
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    with raw:
        head = raw.read(_CHUNK)
        if head[:2] != b"\x1f\x8b":
            while head:
                yield decoder.decode(head)
                head = raw.read(_CHUNK)
            yield decoder.decode(b"", final=True)
            return
        inflater = zlib.decompressobj(wbits=31)
        data = head
        while True:
            try:
                yield decoder.decode(inflater.decompress(data))
            except zlib.error as err:
                raise InputError(f"{path}: file is damaged or truncated: {err}") from None
            if inflater.eof and inflater.unused_data:  # next gzip member
                data = inflater.unused_data
                inflater = zlib.decompressobj(wbits=31)
                continue
            data = raw.read(_CHUNK)
            if not data:
                break
        yield decoder.decode(b"", final=True)
        if not inflater.eof:
            raise InputError(f"{path}: file is damaged or truncated: the gzip stream ends early")


def _read_ndjson(fh: IO[str]) -> Iterator[RawEntry]:
    for line_no, line in enumerate(fh, start=1):
        text = line.strip(_WS)
        if text:
            yield RawEntry(line_no, text)


def _read_array(path: Path, fh: IO[str]) -> Iterator[RawEntry]:
    """Walk a JSON array element by element with raw_decode over a sliding buffer."""
    decoder = json.JSONDecoder()
    buf = fh.read(_CHUNK).lstrip(_WS + "\ufeff")
    line_no = 1 + 0  # lines consumed before buf[0]
    pos = 1  # past '['
    eof = False
    element = 0

    def more() -> bool:
        nonlocal buf, pos, line_no, eof
        if eof:
            return False
        chunk = fh.read(_CHUNK)
        if not chunk:
            eof = True
            return False
        line_no += buf.count("\n", 0, pos)
        buf = buf[pos:] + chunk
        pos = 0
        return True

    expect_value = True
    while True:
        while True:  # skip blanks and one separating comma
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf) or not more():
                break
        if pos >= len(buf):
            raise InputError(
                f"{path}: line {line_no + buf.count(chr(10), 0, pos)}: truncated JSON array "
                f"(no closing ']' after element {element - 1})"
            )
        ch = buf[pos]
        if ch == "]":
            # Exports appended to one file ("[...]\n[...]") are read on; anything else after
            # the closing bracket is named, never silently dropped.
            pos += 1
            while True:
                while pos < len(buf) and buf[pos] in _WS:
                    pos += 1
                if pos < len(buf) or not more():
                    break
            if pos >= len(buf):
                return
            if buf[pos] != "[":
                raise InputError(
                    f"{path}: line {line_no + buf.count(chr(10), 0, pos)}: unexpected "
                    f"{buf[pos]!r} after the JSON array's closing ']'"
                )
            pos += 1
            expect_value = True
            continue
        if ch == "," and not expect_value:
            pos += 1
            expect_value = True
            continue
        start_line = line_no + buf.count("\n", 0, pos)
        while True:
            try:
                _, end = decoder.raw_decode(buf, pos)
                break
            except RecursionError:
                # Nested too deep for Python's parser: find the element's end by its brackets
                # and hand its text on; the limits screen rejects it by name.
                found = container_end(buf, pos)
                if found is None and more():
                    continue
                if found is None:
                    raise InputError(
                        f"{path}: line {start_line}: truncated JSON array: element {element} "
                        "is cut off"
                    ) from None
                end = found
                break
            except json.JSONDecodeError as err:
                if len(buf) - pos < _MAX_ELEMENT_CHARS and more():
                    continue
                if eof and err.pos >= len(buf) - 1:
                    raise InputError(
                        f"{path}: line {start_line}: truncated JSON array: element {element} "
                        "is cut off"
                    ) from None
                raise InputError(
                    f"{path}: line {line_no + buf.count(chr(10), 0, err.pos)}: element {element}: "
                    f"malformed JSON ({err.msg}); the array cannot be read past this point"
                ) from None
        yield RawEntry(start_line, buf[pos:end], element)
        element += 1
        pos = end
        expect_value = False
