"""Cut an NDJSON export's bytes into Arrow batches of lines in bulk: no Python object per entry.

The file (plain or gzip) is read in chunks of bytes; each chunk's complete lines become one
Arrow string array (cut by Arrow's ``split_pattern``, the separators left out), so a line costs
a few bytes of offsets, not a Python string and a second UTF-8 encoding. The
chunk-level checks are C-level passes over the bytes: UTF-8 validity (``bytes.decode``), the
longest line and the brackets on each line (``bytes.translate``). Only a line with more
opening brackets than MAX_DEPTH (its nesting may pass it), or a chunk that fails a check
(invalid UTF-8, a string that may pass MAX_FIELD_CHARS), takes the per-entry path through
forensics.limits.screen, with the same result: one such line no longer sends its whole chunk
(a real export has entries of 100+ brackets every few thousand lines).

Lines end at "\\n" (a "\\r" before it stays part of the line, as JSON white space), or at
"\\r" in a file with no "\\n" at all (old Mac line endings; a JSON string cannot hold a raw CR,
so this never splits an entry). A UTF-8 byte order mark is dropped. A line longer than
MAX_ENTRY_CHARS is skipped as it streams by (never held whole) and comes out as a placeholder
with its problem. A file damaged part-way (a truncated .gz) yields every complete line before
the damage, then raises InputError.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from forensics.batches import BATCH_SCHEMA, LineBatch, RawBatch, record_batch
from forensics.errors import InputError
from forensics.limits import MAX_DEPTH, MAX_ENTRY_CHARS, MAX_FIELD_CHARS, too_large

__all__ = ["PLACEHOLDER", "byte_chunks", "ndjson_batches"]

# Bytes read at a time. A complete line inside one chunk is shorter than this, so only a line
# carried across chunks can pass MAX_ENTRY_CHARS.
CHUNK = 4 << 20
assert CHUNK < MAX_ENTRY_CHARS
# Stands in for an entry the reader rejected itself (too large to hold): tiny, and rejected
# with the reader's problem, never parsed.
PLACEHOLDER = "{}"
_BOM = b"\xef\xbb\xbf"
# UTF-8 continuation bytes: deleting them leaves one byte per character.
_CONTINUATION = bytes(range(0x80, 0xC0))
# Per separator, everything but opening brackets and the separator: deleting it leaves, per
# line, one byte per "{" or "[", an upper bound of the line's nesting depth.
_NOT_OPENING = {sep: bytes(b for b in range(256) if b not in b"{[" + sep) for sep in (b"\n", b"\r")}
# What forensics.normalize skips as a blank line: nothing but these.
_BLANK = b" \t\r\n"
_POOL = pa.system_memory_pool()


def _chars(data: bytes) -> int:
    """Characters in UTF-8 ``data`` (an invalid byte counts as one, as decoding replaces it)."""
    return len(data.translate(None, _CONTINUATION))


def byte_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of a plain or gzipped file, chunk by chunk.

    Decompresses with zlib directly rather than GzipFile so that a truncated .gz still yields
    every byte before the cut (GzipFile raises and drops what the failing read had inflated),
    then raises InputError. Concatenated gzip members are followed.
    """
    try:
        raw = path.open("rb")
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    with raw:
        head = raw.read(CHUNK)
        if head[:2] != b"\x1f\x8b":
            while head:
                yield head
                head = raw.read(CHUNK)
            return
        inflater = zlib.decompressobj(wbits=31)
        data = head
        while True:
            try:
                out = inflater.decompress(data, CHUNK)
                while out:
                    yield out
                    out = inflater.decompress(inflater.unconsumed_tail, CHUNK)
            except zlib.error as err:
                raise InputError(f"{path}: file is damaged or truncated: {err}") from None
            if inflater.eof and inflater.unused_data:  # next gzip member
                data = inflater.unused_data
                inflater = zlib.decompressobj(wbits=31)
                continue
            data = raw.read(CHUNK)
            if not data:
                break
        if not inflater.eof:
            raise InputError(f"{path}: file is damaged or truncated: the gzip stream ends early")


@dataclass
class _Lines:
    """A few lines as bytes, separators removed: one carried across chunks, a placeholder."""

    first_line: int
    lines: list[bytes]
    problems: dict[int, str] = field(default_factory=dict)  # index -> the reader's rejection


@dataclass
class _Span:
    """The complete lines inside one chunk, in place: ``data[start:stop]`` is ``count`` lines,
    each ended by ``sep``, the first of them line ``first_line``."""

    first_line: int
    data: bytes
    start: int
    stop: int
    count: int
    sep: bytes


def _without_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks with a UTF-8 byte order mark at the start of the file dropped."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(_BOM):
            break
    yield head.removeprefix(_BOM)
    yield from chunks


def _groups(path: Path) -> Iterator[_Lines | _Span]:
    """The file's lines in order; on damage, the complete lines, then InputError."""
    next_line = 1
    parts: list[bytes] = []  # the unfinished last line so far
    held = 0  # its length in characters
    skipped = 0  # > 0 while skipping an over-long line: its length so far
    sep: bytes | None = None
    for chunk in _without_bom(byte_chunks(path)):
        if sep is None:
            # A CR that ends the chunk may be the first half of a CRLF: wait for the next one.
            sep = b"\n" if b"\n" in chunk else b"\r" if b"\r" in chunk.rstrip(b"\r") else None
        end = chunk.find(sep) if sep else -1
        if sep and end >= 0:
            # The line that started in an earlier chunk ends here.
            size = held + _chars(chunk[:end])
            if skipped or size > MAX_ENTRY_CHARS:
                yield _Lines(next_line, [PLACEHOLDER.encode()], {0: too_large(skipped + size)})
            else:
                yield _Lines(next_line, [b"".join([*parts, chunk[:end]])])
            next_line += 1
            parts, held, skipped = [], 0, 0
            # Split on the separator only: U+2028 and friends may sit in a JSON string.
            stop = chunk.rfind(sep) + 1
            if stop > end + 1:
                # Per line, its brackets: [the line carried in, the span's lines..., the tail].
                depths = list(map(len, chunk.translate(None, _NOT_OPENING[sep]).split(sep)))
                yield from _spans(next_line, chunk, end + 1, stop, depths[1:-1], sep)
                next_line += len(depths) - 2
            tail = chunk[stop:]
        else:
            tail = chunk
        if skipped:
            skipped += _chars(tail)
        elif held + _chars(tail) > MAX_ENTRY_CHARS:
            skipped, parts, held = held + _chars(tail), [], 0
        elif tail:
            parts.append(tail)
            held += _chars(tail)
    if skipped:
        yield _Lines(next_line, [PLACEHOLDER.encode()], {0: too_large(skipped)})
    elif parts:
        yield _Lines(next_line, [b"".join(parts)])


def _spans(
    first_line: int, data: bytes, start: int, stop: int, depths: list[int], sep: bytes
) -> Iterator[_Lines | _Span]:
    """The lines of ``data[start:stop]`` (``depths``: each one's opening brackets) in order:
    a line that may nest deeper than MAX_DEPTH alone, for the per-entry path; runs of the
    others in place, for the bulk one. O(lines) only when such a line is there."""
    if max(depths) <= MAX_DEPTH:
        yield _Span(first_line, data, start, stop, len(depths), sep)
        return
    run_start, run_line = start, first_line  # the run of shallow lines so far
    for i, depth in enumerate(depths):
        end = data.index(sep, start) + 1
        if depth > MAX_DEPTH:
            if run_line < first_line + i:
                yield _Span(run_line, data, run_start, start, first_line + i - run_line, sep)
            yield _Lines(first_line + i, [data[start : end - 1]])
            run_start, run_line = end, first_line + i + 1
        start = end
    if run_line < first_line + len(depths):
        yield _Span(run_line, data, run_start, stop, first_line + len(depths) - run_line, sep)


@dataclass
class _Part:
    """One group of lines as an Arrow record batch, with where its blank lines are."""

    batch: pa.RecordBatch
    blank: list[int]  # row indexes of blank lines
    notes: list[tuple[int, str]]


def _is_blank(line: bytes) -> bool:
    return not line.strip(_BLANK)


def _is_utf8(data: memoryview) -> bool:
    try:
        codecs.utf_8_decode(data, "strict", True)
    except UnicodeDecodeError:
        return False
    return True


def _part(group: _Lines | _Span) -> _Part:
    """Arrow for one group: in bulk when the chunk-level checks pass, else entry by entry."""
    if isinstance(group, _Lines):
        return _screened_part(group)
    data, start, stop, count = group.data, group.start, group.stop, group.count
    # One pass in Arrow's C++ cuts the lines out of the chunk without their separators (a JSON
    # string cannot hold one, so every separator ends a line): no Python object per line, and
    # no substr() in SQL, which scanned every character of every entry to drop a line end.
    bounds = pa.array([start, stop - 1], pa.int32()).buffers()[1]
    whole = pa.Array.from_buffers(pa.binary(), 1, [None, bounds, pa.py_buffer(data)])
    # From the C allocator, not Arrow's default (mimalloc), which keeps what a chunk freed: the
    # classification that follows an ingest stacked its peak on it (60 MB at 1M demo entries).
    lines = pc.split_pattern(whole, pattern=group.sep, memory_pool=_POOL).flatten()
    lengths = pc.binary_length(lines)
    if (
        pc.max(lengths).as_py() > MAX_FIELD_CHARS  # bytes: at least the characters
        or not (data.isascii() or _is_utf8(memoryview(data)[start:stop]))
    ):
        return _screened_part(_Lines(group.first_line, data[start : stop - 1].split(group.sep)))
    first = group.first_line
    numbers = pa.array(range(first, first + count), pa.int64())
    # An empty line is blank. (A line of white space is counted as an entry: at worst its
    # chunk is looked at again for problems, and none is found.)
    blank = pc.indices_nonzero(pc.equal(lengths, 0)).to_pylist()
    text = lines.view(pa.string())
    batch = pa.RecordBatch.from_arrays(
        [numbers, text, pa.nulls(count, pa.string())], schema=BATCH_SCHEMA
    )
    return _Part(batch, blank, [])


def _screened_part(group: _Lines) -> _Part:
    """The per-entry path (forensics.limits.screen) for lines the bulk checks refused."""
    texts = [line.decode("utf-8", errors="replace") for line in group.lines]
    first = group.first_line
    problems = [group.problems.get(i) for i in range(len(texts))] if group.problems else None
    raw = RawBatch(list(range(first, first + len(texts))), texts, problems=problems)
    notes: list[tuple[int, str]] = []
    batch = record_batch(raw, notes)
    blank = [i for i, line in enumerate(group.lines) if _is_blank(line)]
    return _Part(batch, blank, notes)


def ndjson_batches(path: Path, batch_size: int) -> Iterator[LineBatch]:
    """The file's lines in batches of exactly ``batch_size`` (the last may be shorter).

    Exactly: ingest sizes its statements in whole DuckDB row groups, and a batch a few lines
    over would leave a partial row group behind each one.
    """
    pending: list[_Part] = []
    offset = 0  # rows of pending[0] already handed on
    held = 0  # rows pending, not yet handed on

    def take(size: int) -> LineBatch:
        nonlocal offset, held
        parts: list[pa.RecordBatch] = []
        entries = 0
        notes: list[tuple[int, str]] = []
        while size:
            part = pending[0]
            n = min(size, part.batch.num_rows - offset)
            parts.append(part.batch.slice(offset, n))
            entries += n - sum(1 for i in part.blank if offset <= i < offset + n)
            first = part.batch.column(0)[offset].as_py()
            notes.extend(note for note in part.notes if first <= note[0] < first + n)
            offset += n
            size -= n
            held -= n
            if offset == part.batch.num_rows:
                pending.pop(0)
                offset = 0
        return LineBatch(parts, sum(p.num_rows for p in parts), entries, notes)

    try:
        for group in _groups(path):
            part = _part(group)
            pending.append(part)
            held += part.batch.num_rows
            while held >= batch_size:
                yield take(batch_size)
    except InputError:
        # Damage part-way: every complete line before it is handed on, then the error.
        if held:
            yield take(held)
        raise
    if held:
        yield take(held)
