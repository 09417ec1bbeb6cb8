"""Walk a JSON-array export (`gcloud logging read --format=json`) element by element.

Memory stays bounded by one element plus a read buffer whatever the file size: each element's
text is found with ``json.JSONDecoder.raw_decode`` over a sliding buffer and handed on
untouched, with the line it starts on and its index. A malformed element whose end can be
found (its matching bracket, or the next separator) is handed on too, for the normalizer to
reject by name, and the walk goes on past it. Damage that makes the rest of the array
unreadable (a cut element, an unbalanced one) raises InputError naming the line, after every
element before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from forensics.batches import RawEntry
from forensics.errors import InputError
from forensics.limits import MAX_ENTRY_CHARS, container_end

__all__ = ["read_array"]

_CHUNK = 1 << 20
# An array element larger than MAX_ENTRY_CHARS is a syntax error we failed to see, or an entry
# past the limit; either way the array cannot be followed past it.
_MAX_ELEMENT_CHARS = MAX_ENTRY_CHARS
_WS = " \t\r\n"


# An element that does not start a container ends at the next separator or closing bracket.
_SEPARATOR = re.compile(r"[,\]]")


def _wants_more(buf: str, err: json.JSONDecodeError) -> bool:
    """Whether the decode failed for want of text: the buffer ends inside the element.

    An unterminated string says so at the string's start, and a cut escape or literal a few
    characters before the end; any other error inside the buffer is the element's own.
    """
    return err.msg.startswith("Unterminated string") or err.pos >= len(buf) - 8


def _element_end(buf: str, pos: int) -> int | None:
    """Index just past the malformed element at ``buf[pos]``, if the buffer holds its end.

    A container ends at its matching bracket (strings respected, forensics.limits); anything
    else at the next "," or "]" (",," is an empty element). None when that end is not in the
    buffer, or is its last character (the element may go on). Linear in the element's length.
    """
    if buf[pos] in "[{":
        end = container_end(buf, pos)
    else:
        match = _SEPARATOR.search(buf, pos)
        # ",," holds an empty element: the second comma stands for it.
        end = max(match.start(), pos + 1) if match else None
    return end if end is not None and pos < end < len(buf) else None


def read_array(path: Path, fh: IO[str]) -> Iterator[RawEntry]:
    """Walk a JSON array element by element with raw_decode over a sliding buffer."""
    decoder = json.JSONDecoder()
    buf = fh.read(_CHUNK).lstrip(_WS + "\ufeff")
    line_no = 1 + 0  # lines consumed before buf[0]
    pos = 1  # past '['
    eof = False
    element = 0

    # Newlines in buf[:counted_to], so that each element's line counts only the text since the
    # last one (counting from the buffer's start for every element was quadratic: 30 CPU s
    # for 100,000 pretty-printed entries).
    counted_to = counted = 0

    def line_at(at: int) -> int:
        nonlocal counted_to, counted
        if at < counted_to:
            return line_no + buf.count("\n", 0, at)
        counted += buf.count("\n", counted_to, at)
        counted_to = at
        return line_no + counted

    def more() -> bool:
        nonlocal buf, pos, line_no, eof, counted_to, counted
        if eof:
            return False
        chunk = fh.read(_CHUNK)
        if not chunk:
            eof = True
            return False
        line_no = line_at(pos)
        buf = buf[pos:] + chunk
        pos = counted_to = counted = 0
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
                f"{path}: line {line_at(pos)}: truncated JSON array "
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
                    f"{path}: line {line_at(pos)}: unexpected "
                    f"{buf[pos]!r} after the JSON array's closing ']'"
                )
            pos += 1
            expect_value = True
            continue
        if ch == "," and not expect_value:
            pos += 1
            expect_value = True
            continue
        start_line = line_at(pos)
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
                if not _wants_more(buf, err) and (found := _element_end(buf, pos)) is not None:
                    # Malformed, and wholly in the buffer: handed on as it is, so the
                    # normalizer rejects it by name, and the array is read on past it.
                    end = found
                    break
                if len(buf) - pos < _MAX_ELEMENT_CHARS and more():
                    continue
                if eof and err.pos >= len(buf) - 1:
                    raise InputError(
                        f"{path}: line {start_line}: truncated JSON array: element {element} "
                        "is cut off"
                    ) from None
                raise InputError(
                    f"{path}: line {line_at(err.pos)}: element {element}: "
                    f"malformed JSON ({err.msg}); the array cannot be read past this point"
                ) from None
        yield RawEntry(start_line, buf[pos:end], element)
        element += 1
        pos = end
        expect_value = False
