"""Group masked log texts into templates: learn and drop the line header, then partition by tokens.

Steps, over the distinct masked texts (each with its line count):
  1. Header: when most texts start with the same run of fields that look like a line header
     (timestamps, numbers, levels, months, bracketed fields, "-", a column holding one value),
     learned column by column from the texts themselves, those fields are dropped, with the
     ``component:`` or ``process[pid]:`` token after them when most lines have one.
  2. Tokens: the rest is split on runs of whitespace (so extra spaces never change a template);
     a run of masked values (a list of hosts, of numbers) counts as one token.
  3. Partition (IPLoM's idea): texts with the same token count form a partition; a partition is
     split on the position whose values are fewest, when they are a few words and not masked
     values (``GET``/``POST``/``DELETE`` stay apart), recursively; the positions left varying
     become ``<*>``.
  4. Templates of different lengths whose fixed tokens are the same, where a ``<*>`` spans
     several tokens, are merged.
Ids and texts depend only on the multiset of input texts, never on their order.

Cost, for D distinct masked texts of at most L tokens (L <= MAX_TOKENS): the header is learned
in O(D) (a dozen fields each); a partition level is O(D*L) and a split fixes at least one
position, so partitioning is O(D*L*depth), depth <= L and in practice a few levels; the merge
across lengths aligns at most MERGE_MAX_PAIRS pairs of templates of at most MERGE_MAX_TOKENS
tokens (O(T^2) candidate pairs among T templates sharing a first word, each O(L^2)). Rows
that repeat a masked text cost nothing: the SQL groups them before this runs.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["WILDCARD", "Group", "group_masked", "learn_header", "strip_header"]

WILDCARD = "<*>"
HEADER_MAX_FIELDS = 12  # a header longer than this is not a header
HEADER_SHARE = 0.9  # share of lines whose field at a column must look like a header field
COMPONENT_SHARE = 0.5  # share of lines with a `name:` token after the header to drop it
SPLIT_MAX_VALUES = 3  # a position with more distinct words than this holds a variable

SHORT_TOKENS = 4  # in texts shorter than this, each word is the template's (`GET <url> <N>`)
MAX_TOKENS = 100  # a text is grouped on its first tokens (bounds recursion and alignment)
MERGE_MAX_TOKENS = 40  # longer templates are not aligned across lengths (quadratic in length)
MERGE_MAX_PAIRS = 5000  # alignments tried per run at most: bounded work on hostile input
MERGE_MIN_FIXED = 4  # fixed tokens two templates of different lengths must share to merge
MERGE_MAX_EXTRA = 2  # tokens a variable may span beyond one

_PLACEHOLDER = re.compile(r"<[A-Z]+>|<\*>")
# a header field: a bracketed group (a thread name may hold spaces), else a run without blanks
_FIELD = re.compile(r"\[[^\]\n]{0,200}\][^\s|]*|[^\s|]+")
_LEVELS = frozenset(
    re.findall(
        r"\w+",
        "trace debug info information informational notice warn warning error err fatal critical"
        " crit alert emerg emergency severe fine finer finest config verbose v d i w e f",
    )
)
_CALENDAR = frozenset(
    re.findall(
        r"\w+", "jan feb mar apr may jun jul aug sep oct nov dec mon tue wed thu fri sat sun"
    )
)


def _typed_field(token: str) -> bool:
    """A token that reads as a header field: a time or number, a level, a month, [x], -."""
    if token.startswith("[") or token == "-":
        return True
    rest = _PLACEHOLDER.sub("", token)
    if rest != token and not re.search(r"[A-Za-z]", rest):
        return True  # only masked values and separators: a date, a time, a pid
    return rest.strip("[](){}:,;.").lower() in _LEVELS | _CALENDAR


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
        elif top and top[0][1] >= HEADER_SHARE * total:
            kinds.append(top[0][0])
        elif i - width >= 2:  # at most two untyped fields (a host, a component) inside
            break
        else:
            kinds.append("")
            continue
        width = i + 1
    if not width:
        return NO_HEADER
    named = sum(
        n
        for fields, (_, n) in zip(split, texts, strict=True)
        if _component_end(fields, width) is not None
    )
    last = values[width - 1].most_common(1)[0][0]
    delimiter = (
        last if (not re.search(r"\w", last) and not _typed_field(last)) or last == "-" else ""
    )
    return Header(width, named >= COMPONENT_SHARE * total, delimiter, tuple(kinds[:width]))


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


_LISTED = re.compile(r"(?:<[A-Z]+>|<\*>)[,;]?")


def _bare(token: str) -> bool:
    """A token that is one masked value, maybe with a list's comma (``<N>``, ``<IP>,``)."""
    return _LISTED.fullmatch(token) is not None


def _collapse(tokens: list[str]) -> list[str]:
    """Runs of bare masked values become one: a list of values is one variable, any length."""
    out: list[str] = []
    for token in tokens:
        if out and _bare(token) and _bare(out[-1]):
            continue
        out.append(token)
    return out


@dataclass
class Group:
    """A template and the distinct masked texts it holds."""

    template: str
    members: list[str]


@lru_cache(maxsize=65536)
def _variable(value: str) -> bool:
    """A masked value, or a month or weekday name (a date's part)."""
    return bool(_PLACEHOLDER.search(value)) or value.lower().strip(",.") in _CALENDAR


_KEY = re.compile(r"[^=:/\s]*[=:](?!//)")
_ASSIGNED = re.compile(r"[A-Za-z_][\w.-]*=")  # `name=` before a masked value
_FLAGS = frozenset(re.findall(r"\w+", "true false null none yes no on off"))


def _keyed(values: set[str]) -> bool:
    """One key's values, some masked (``mask=<N>``, ``mask=ffff``): a variable, unless flags."""
    keys = {m.group() if (m := _KEY.match(v)) else None for v in values}
    if len(keys) != 1 or None in keys or not any(_variable(v) for v in values):
        return False
    key = keys.pop() or ""
    return not all(v[len(key) :].strip(",;.)").lower() in _FLAGS for v in values)


def _one_family(words: set[str]) -> bool:
    """Names under one namespace (``com.apple.x``, ``com.apple.y``): a variable's values,
    unless they read as an enum's constants (``action.SCREEN_ON``, ``action.TIME_TICK``)."""
    low, high = min(words), max(words)  # the common prefix of all is that of these two
    prefix = low[
        : next((i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), len(low))
    ]
    cut = max(prefix.rfind("."), prefix.rfind("/"))
    if len(words) < 2 or cut < 3:
        return False
    return not all(re.fullmatch(r"[A-Z][A-Z0-9_]*\W*", w[cut + 1 :]) for w in words)


def _enum(words: set[str]) -> bool:
    """Upper-case names (``NEW``, ``RUNNING``, ``JOB_SETUP``): an enum's constants, any number."""
    return all(re.fullmatch(r"[A-Z][A-Z0-9_]{2,}\W?", w) for w in words)


def _value_like(words: set[str], before: set[str]) -> bool:
    """Words that read as values: paths, or short units after a number (``KB``, ``ms``, ``EST``)."""
    if all("/" in w for w in words):
        return True
    return all(_variable(b) for b in before) and all(len(re.sub(r"\W", "", w)) <= 4 for w in words)


def _shape(value: str) -> str:
    """What a position's value says about its template: a word itself, a masked value only
    name (``steps=<N>`` -> ``steps=<*>``), else nothing (``<*>``)."""
    if not _variable(value) and re.search(r"\w", value):
        return value
    key = _ASSIGNED.match(value)
    return key.group() + WILDCARD if key else WILDCARD


def _split_position(rows: list[tuple[list[str], str]]) -> int | None:
    """The position to split rows on, or None: the first one holding a word (Drain's first
    token), else the one with the fewest values when they are a few words."""
    best: tuple[int, int] | None = None
    short = len(rows[0][0]) < SHORT_TOKENS  # a request line: every word in it matters
    leading = True  # no word at any earlier position: this is where the text starts
    for p in range(len(rows[0][0])):
        values = {tokens[p] for tokens, _ in rows}
        shapes = {_shape(v) for v in values}
        named = shapes - {WILDCARD}
        first, leading = leading or short, leading and not named
        if not named or len(shapes) < 2 or _keyed(values):
            continue
        words = {v for v in named if v in values}
        if not short and len(words) == len(named) and _one_family(words):
            continue
        if not first and words and _value_like(words, {tokens[p - 1] for tokens, _ in rows}):
            continue
        few = first or len(named) <= SPLIT_MAX_VALUES or (words == named and _enum(words))
        if few and (best is None or len(shapes) < best[0]):
            best = (len(shapes), p)
    return None if best is None else best[1]


def _partition(rows: list[tuple[list[str], str]]) -> list[list[tuple[list[str], str]]]:
    """Split same-length rows on their first word, then on few-valued positions, recursively."""
    p = _split_position(rows)
    if p is None:
        return [rows]
    parts: dict[str, list[tuple[list[str], str]]] = defaultdict(list)
    for row in rows:
        parts[_shape(row[0][p])].append(row)
    return [group for key in sorted(parts) for group in _partition(parts[key])]


def _template(rows: list[tuple[list[str], str]]) -> list[str]:
    first = rows[0][0]
    return [tok if all(r[0][p] == tok for r in rows) else WILDCARD for p, tok in enumerate(first)]


@lru_cache(maxsize=65536)
def _loose(token: str) -> bool:
    return token == WILDCARD or _variable(token)


@lru_cache(maxsize=65536)
def _match_score(x: str, y: str) -> int:
    """2 for equal tokens, 1 for a variable against a token that is no other key's
    `key=value`, 0 for tokens that cannot align."""
    if x == y:
        return 2
    if _loose(x) and _loose(y):
        return 1
    if _loose(x) or _loose(y):
        fixed, loose = (y, x) if _loose(x) else (x, y)
        key = _KEY.match(fixed)
        return 1 if key is None or loose.startswith(key.group()) else 0
    return 0


def _absorbs(a: list[str], b: list[str]) -> bool:
    """Whether a and b are one template whose variables span more tokens in one of them.

    They align (a weighted LCS: equal tokens first, then a variable against any token) with
    at least MERGE_MIN_FIXED equal fixed tokens, and every token left over sits next to a
    variable and is no `key=value` field.
    """
    shared = Counter(t for t in a if not _loose(t)) & Counter(t for t in b if not _loose(t))
    if sum(shared.values()) < MERGE_MIN_FIXED:
        return False  # too few fixed tokens in common to align
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            score = _match_score(a[i], b[j])
            table[i][j] = max(
                table[i + 1][j], table[i][j + 1], table[i + 1][j + 1] + score if score else 0
            )
    i = j = fixed = 0
    left_a: list[int] = []
    left_b: list[int] = []
    while i < n and j < m:
        score = _match_score(a[i], b[j])
        if score and table[i][j] == table[i + 1][j + 1] + score:
            fixed += score == 2 and not _loose(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            left_a.append(i)
            i += 1
        else:
            left_b.append(j)
            j += 1
    left_a += range(i, n)
    left_b += range(j, m)
    if fixed < MERGE_MIN_FIXED or len(left_a) + len(left_b) > MERGE_MAX_EXTRA:
        return False
    return all(_beside_variable(a, k) for k in left_a) and all(
        _beside_variable(b, k) for k in left_b
    )


def _beside_variable(tokens: list[str], k: int) -> bool:
    if _loose(tokens[k]):
        return True
    if "=" in tokens[k]:
        return False
    return any(0 <= q < len(tokens) and _loose(tokens[q]) for q in (k - 1, k + 1))


def _merge_lengths(groups: list[tuple[list[str], list[str]]]) -> list[tuple[list[str], list[str]]]:
    """Merge templates of different lengths that `_absorbs` says are one (shortest kept)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, (template, _) in enumerate(groups):
        if len(template) <= MERGE_MAX_TOKENS:
            first = next((t for t in template if not _loose(t)), "")
            blocks[first].append(index)
    budget = MERGE_MAX_PAIRS
    parent = list(range(len(groups)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for members in blocks.values():
        for x_pos, x in enumerate(members):
            for y in members[x_pos + 1 :]:
                a, b = groups[x][0], groups[y][0]
                if len(a) == len(b) or abs(len(a) - len(b)) > MERGE_MAX_EXTRA:
                    continue
                if budget > 0 and root(x) != root(y):
                    budget -= 1
                    if _absorbs(a, b):
                        parent[max(root(x), root(y))] = min(root(x), root(y))
    merged: dict[int, tuple[list[str], list[str]]] = {}
    for index, (template, texts) in enumerate(groups):
        r = root(index)
        if r in merged:
            merged[r] = (merged[r][0], merged[r][1] + texts)
        else:
            merged[r] = (template, list(texts))
    return [merged[r] for r in sorted(merged)]


def group_masked(texts: Iterable[tuple[str, int]]) -> list[Group]:
    """Group distinct masked texts (with line counts) into templates, deterministically."""
    merged: Counter[str] = Counter()
    for text, n in texts:
        merged[text] += n
    distinct = sorted(merged.items())
    header = learn_header(distinct)
    by_length: dict[int, list[tuple[list[str], str]]] = defaultdict(list)
    for text, _ in distinct:
        tokens = _collapse(strip_header(text, header).split())[:MAX_TOKENS]
        by_length[len(tokens)].append((tokens, text))
    groups = [
        (_template(rows), [text for _, text in rows])
        for length in sorted(by_length)
        for rows in _partition(by_length[length])
    ]
    return [Group(" ".join(template), texts) for template, texts in _merge_lengths(groups)]
