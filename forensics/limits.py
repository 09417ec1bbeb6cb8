"""Size and nesting limits for one LogEntry, and the screen that applies them before DuckDB.

Cloud Logging caps an entry at 256 KiB (512 KiB for audit logs) and protobuf nesting at 100
levels, but exports and other tools write bigger and deeper ones. Past these limits an entry
is cut or named, never allowed to crash a load or lose its neighbours:

- ``MAX_FIELD_CHARS``: a string value longer than this (e.g. a 16 MiB ``textPayload``) is cut to
  this many characters followed by ``TRUNCATION_MARK``; the entry, its identity and its other
  fields are kept.
- ``MAX_DEPTH``: an entry nested deeper than this is rejected by name.
- ``MAX_ENTRY_CHARS``: an entry whose JSON text is longer than this is rejected by name without
  being held in memory whole (the readers skip it).

The screen runs on every batch but costs two C-level passes (``len`` and ``str.count`` mapped
over the batch's texts); only the rare entry past a limit is parsed in Python.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_ENTRY_CHARS",
    "MAX_FIELD_CHARS",
    "TRUNCATION_MARK",
    "Screened",
    "container_end",
    "json_depth",
    "screen",
    "too_large",
]

MAX_FIELD_CHARS = 256 * 1024
MAX_DEPTH = 100
MAX_ENTRY_CHARS = 64 * 1024 * 1024
# Appended to a cut string; {total} is the string's full length in characters.
TRUNCATION_MARK = "…[cut by forensics: {total} characters in all]"

_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def json_depth(text: str, stop_at: int = MAX_DEPTH + 1) -> int:
    """How deeply ``text``'s arrays and objects nest (brackets inside strings do not count).

    Stops counting at ``stop_at``: callers only need to know that a limit is passed.
    """
    depth = deepest = 0
    for token in _TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest >= stop_at:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def container_end(text: str, pos: int) -> int | None:
    """Index just past the array or object that starts at ``text[pos]``; None if it never ends.

    For text nested too deep for Python's json parser, which must still be stepped over.
    """
    depth = 0
    for token in _TOKENS.finditer(text, pos):
        char = token.group()[0]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def too_large(chars: int) -> str:
    """The rejection of an entry past MAX_ENTRY_CHARS."""
    return (
        f"entry larger than {MAX_ENTRY_CHARS // (1 << 20)} MiB "
        f"({chars / (1 << 20):,.1f} MiB or more); not loaded"
    )


@dataclass
class Screened:
    """A batch's texts after the screen, with what it rejected and what it cut."""

    texts: list[str]
    problems: list[str | None] | None = None  # per text; None when nothing was rejected
    cut: list[tuple[int, str]] = field(default_factory=list)  # (offset, note)


def _cut_strings(value: Any, cuts: list[str], path: str = "$") -> Any:
    if isinstance(value, str):
        if len(value) <= MAX_FIELD_CHARS:
            return value
        cuts.append(f"{path} ({len(value):,} characters)")
        return value[:MAX_FIELD_CHARS] + TRUNCATION_MARK.format(total=len(value))
    if isinstance(value, dict):
        return {k: _cut_strings(v, cuts, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_strings(v, cuts, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _screen_one(text: str, maybe_deep: bool) -> tuple[str, str | None, str | None]:
    """(text to load, problem or None, note about a cut or None) for one suspicious entry."""
    if maybe_deep and json_depth(text) > MAX_DEPTH:
        return "{}", f"nested deeper than {MAX_DEPTH} levels; not loaded", None
    if len(text) <= MAX_FIELD_CHARS:
        return text, None, None
    try:
        parsed = json.loads(text)
    except ValueError:
        return "{", None, None  # malformed: DuckDB names it without parsing megabytes
    cuts: list[str] = []
    parsed = _cut_strings(parsed, cuts)
    if not cuts:
        return text, None, None
    note = f"cut to {MAX_FIELD_CHARS:,} characters: {', '.join(cuts)}"
    return json.dumps(parsed, ensure_ascii=False), None, note


def screen(texts: list[str], problems: list[str | None] | None = None) -> Screened:
    """Apply the limits to a batch of entry texts (see the module docstring)."""
    if not texts:
        return Screened(texts, problems)
    long: set[int] = set()
    deep: set[int] = set()
    if max(map(len, texts)) > MAX_FIELD_CHARS:
        long.update(i for i, text in enumerate(texts) if len(text) > MAX_FIELD_CHARS)
    curly = list(map(str.count, texts, repeat("{")))
    square = list(map(str.count, texts, repeat("[")))
    if max(curly) + max(square) > MAX_DEPTH:  # an upper bound of every entry's depth
        pairs = enumerate(zip(curly, square, strict=True))
        deep.update(i for i, (a, b) in pairs if a + b > MAX_DEPTH)
    suspicious = long | deep
    if not suspicious:
        return Screened(texts, problems)
    out = list(texts)
    found: list[str | None] = list(problems) if problems is not None else [None] * len(texts)
    screened = Screened(out, found)
    for i in sorted(suspicious):
        if found[i] is None:
            out[i], found[i], note = _screen_one(texts[i], i in deep)
            if note:
                screened.cut.append((i, note))
    if all(p is None for p in found):
        screened.problems = None
    return screened
