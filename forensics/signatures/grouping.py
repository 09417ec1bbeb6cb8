"""Group masked log texts into templates: drop the line header, then partition by tokens.

Steps, over the distinct masked texts (each with its line count):
  1. Header: the line header most texts share, learned from the texts themselves
     (forensics.signatures.header), is dropped from the lines that have it.
  2. Tokens: the rest is split on runs of whitespace (so extra spaces never change a template);
     a run of masked values (a list of hosts, of numbers) counts as one token.
  3. Partition (IPLoM's idea): texts with the same token count form a partition; a partition is
     split on its first word position (Drain's first token), then on the position whose values
     are fewest, when they are a few words or an enum's names and not one key's masked values,
     paths, one namespace's names or units (``GET``/``POST``/``DELETE`` stay apart),
     recursively; the positions left varying become ``<*>``.
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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from forensics.signatures.header import (
    CALENDAR,
    NO_HEADER,
    PLACEHOLDER,
    header_format,
    learn_headers,
    strip_header,
)

__all__ = ["WILDCARD", "Group", "group_masked"]

WILDCARD = "<*>"
SPLIT_MAX_VALUES = 3  # a position with more distinct words than this holds a variable
SHORT_TOKENS = 4  # in texts shorter than this, each word is the template's (`GET <url> <N>`)
MAX_TOKENS = 100  # a text is grouped on its first tokens (bounds recursion and alignment)
MERGE_MAX_TOKENS = 40  # longer templates are not aligned across lengths (quadratic in length)
MERGE_MAX_PAIRS = 5000  # alignments tried per run at most: bounded work on hostile input
MERGE_MIN_FIXED = 4  # fixed tokens two templates of different lengths must share to merge
MERGE_MAX_EXTRA = 2  # tokens a variable may span beyond one

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
    return bool(PLACEHOLDER.search(value)) or value.lower().strip(",.") in CALENDAR


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
    headers = learn_headers(distinct)
    by_length: dict[int, list[tuple[list[str], str]]] = defaultdict(list)
    for text, _ in distinct:
        header = headers.get(header_format(text), NO_HEADER)
        tokens = _collapse(strip_header(text, header).split())[:MAX_TOKENS]
        by_length[len(tokens)].append((tokens, text))
    groups = [
        (_template(rows), [text for _, text in rows])
        for length in sorted(by_length)
        for rows in _partition(by_length[length])
    ]
    return [Group(" ".join(template), texts) for template, texts in _merge_lengths(groups)]
