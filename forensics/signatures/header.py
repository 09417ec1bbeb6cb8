"""Learn a log line header from the lines themselves, and drop it: timestamps, pids, levels, hosts.

Loghub-style raw lines, syslog, gunicorn, Python logging, nginx and the like start with a run
of fields that say when and where, not what: ``2015-10-18 18:01:47,978 INFO [main] Class:``.
`learn_header` looks at the first fields of every (masked) line, column by column: a column is
part of the header when most lines hold a field there that reads as one (a time or number, a
level, a month, ``[bracketed]``, ``-``) or the same value (a host, ``|``), allowing two other
columns (a host, a component) inside; a ``name:`` or ``process[pid]:`` token after it is part
of it when most lines have several. Lines are first sorted by format (`header_format`: the
shape of the first field), so a store of many services learns one header per format.
`strip_header` drops it from each line that has it: nothing is system-specific, a line of
another format keeps its words, and a message repeated in every line keeps them too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CALENDAR",
    "NO_HEADER",
    "PLACEHOLDER",
    "Header",
    "header_format",
    "learn_header",
    "learn_headers",
    "strip_header",
]

HEADER_MAX_FIELDS = 12  # a header longer than this is not a header
HEADER_SHARE = 0.9  # share of lines whose field at a column must look like a header field
HEADER_MIN_LINES = 3  # lines of one format needed to learn its header
COMPONENT_SHARE = 0.5  # share of lines with a `name:` token after the header to drop it

PLACEHOLDER = re.compile(r"<[A-Z]+>|<\*>")  # what mining.MASKS writes, and a template's <*>
# a header field: a bracketed group (a thread name may hold spaces), else a run without blanks
_FIELD = re.compile(r"\[[^\]\n]{0,200}\][^\s|]*|[^\s|]+")
_LEVELS = frozenset(
    re.findall(
        r"\w+",
        "trace debug info information informational notice warn warning error err fatal critical"
        " crit alert emerg emergency severe fine finer finest config verbose v d i w e f",
    )
)
CALENDAR = frozenset(
    re.findall(
        r"\w+", "jan feb mar apr may jun jul aug sep oct nov dec mon tue wed thu fri sat sun"
    )
)


def _typed_field(token: str) -> bool:
    """A token that reads as a header field: a time or number, a level, a month, [x], -."""
    if token.startswith("[") or token == "-":
        return True
    rest = PLACEHOLDER.sub("", token)
    if rest != token and not re.search(r"[A-Za-z]", rest):
        return True  # only masked values and separators: a date, a time, a pid
    return rest.strip("[](){}:,;.").lower() in _LEVELS | CALENDAR


@dataclass(frozen=True)
class Header:
    """The learned header: how many leading fields, and whether a `component:` follows."""

    fields: int
    component: bool
    delimiter: str = ""  # the last field, when it is a fixed mark ("-", "|"): found, not counted
    # per field: TYPED (a time, a level...), the one value it holds, or "" (anything: a host)
    kinds: tuple[str, ...] = ()

    def fits(self, fields: list[re.Match[str]]) -> bool:
        """Whether a line has this header: its first field and all but one other agree."""
        if len(fields) <= self.fields or not _typed_field(fields[0].group()):
            return False
        misses = sum(
            kind != "" and not (_typed_field(f.group()) if kind == TYPED else f.group() == kind)
            for kind, f in zip(self.kinds, fields, strict=False)
        )
        return misses <= 1


NO_HEADER = Header(0, False)
TYPED = "<typed>"


def _fields(text: str) -> list[re.Match[str]]:
    return list(_FIELD.finditer(text))[: HEADER_MAX_FIELDS + 2]


def header_format(text: str) -> str:
    """A line's header format, coarsely: the shape of its first field when that reads as a
    header field (``<N>-<N>-<N>``, ``[<N> <N>:<N>:<N>]``, a month as ``a``), else ""."""
    first = _FIELD.search(text)
    if first is None or not _typed_field(first.group()):
        return ""
    return re.sub(r"[A-Za-z]+", "a", PLACEHOLDER.sub("#", first.group()))


def learn_headers(texts: Sequence[tuple[str, int]]) -> dict[str, Header]:
    """A header per format among the texts (`header_format`), learned from that format's lines."""
    by_format: dict[str, list[tuple[str, int]]] = {}
    for text, n in texts:
        by_format.setdefault(header_format(text), []).append((text, n))
    return {
        key: learn_header(members)
        for key, members in by_format.items()
        if key and sum(n for _, n in members) >= HEADER_MIN_LINES
    }


def learn_header(texts: Sequence[tuple[str, int]]) -> Header:
    """The header most texts share (weighted by line count), or none."""
    total = sum(n for _, n in texts)
    if not total:
        return NO_HEADER
    typed = [0] * HEADER_MAX_FIELDS
    values: list[Counter[str]] = [Counter() for _ in range(HEADER_MAX_FIELDS)]
    split = [_fields(t) for t, _ in texts]
    for fields, (_, n) in zip(split, texts, strict=True):
        for i, m in enumerate(fields[:HEADER_MAX_FIELDS]):
            typed[i] += n * _typed_field(m.group())
            values[i][m.group()] += n
    if typed[0] < HEADER_SHARE * total:  # a header starts with a field, not a fixed word
        return NO_HEADER
    width = 0
    kinds: list[str] = []
    for i in range(HEADER_MAX_FIELDS):
        top = values[i].most_common(1)
        if typed[i] >= HEADER_SHARE * total:
            kinds.append(TYPED)
            width = i + 1
        elif i - width >= 2:  # at most two other fields (a host, a component) inside
            break
        else:  # a column holding one value (a host) is checked, but cannot end the header...
            kinds.append(top[0][0] if top and top[0][1] >= HEADER_SHARE * total else "")
    if width < len(kinds) and kinds[width] not in ("", TYPED) and _varied(values, width + 1):
        width += 1  # ...unless what follows varies: then it names the source (a host, `CBS`)
    if kinds[:width].count(TYPED) < 2:  # one level word (`Error`, `CRITICAL:`) is the message's
        return NO_HEADER
    names: Counter[str] = Counter()  # the `name:` tokens after the header
    for fields, (_, n) in zip(split, texts, strict=True):
        end = _component_end(fields, width)
        if end is not None:
            names[fields[end].group()] += n
    named = sum(names.values())
    if names and names.most_common(1)[0][1] >= HEADER_SHARE * named:
        named = 0  # one `word:` in (nearly) every line is the message's, not a component
    last = values[width - 1].most_common(1)[0][0]
    delimiter = (
        last if (not re.search(r"\w", last) and not _typed_field(last)) or last == "-" else ""
    )
    return Header(width, named >= COMPONENT_SHARE * total, delimiter, tuple(kinds[:width]))


def _varied(values: list[Counter[str]], i: int) -> bool:
    """Whether column i holds no one value in most lines (the message starts there)."""
    if i >= len(values) or not values[i]:
        return False
    return values[i].most_common(1)[0][1] < HEADER_SHARE * sum(values[i].values())


def _component_end(fields: list[re.Match[str]], width: int) -> int | None:
    """Index of the `name:` field right after the header, or one field later, if any."""
    for i in range(width, width + 3):  # a host, a process may stand before the `name:`
        if i < len(fields) - 1 and fields[i].group().endswith(":"):
            return i
    return None


def strip_header(text: str, header: Header) -> str:
    """The text without its header fields (the whole text when the line has no such header)."""
    if not header.fields:
        return text
    fields = _fields(text)
    if not header.fits(fields):
        return text  # a line of another format among them
    last = header.fields - 1
    if header.delimiter:  # a field more or less before the mark (a program name with a space)
        last = next(
            (i for i in range(last - 1, last + 3) if fields[i].group() == header.delimiter), last
        )
    if header.component:
        end = _component_end(fields, header.fields)
        last = end if end is not None else last
    return text[fields[last].end() :].lstrip(" \t|")
