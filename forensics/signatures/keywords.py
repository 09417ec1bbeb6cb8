"""Derive the literal keywords a regex needs, so one cheap scan can gate every regex.

``keyword_chain(regex)`` returns up to two keyword sets, in text order, such that any text the
regex matches contains a keyword of the first set followed by one of the second (compared
case-insensitively): ``(?i)\\bauth service\\b[^\\n]{0,40}\\btimed? ?out`` needs "auth service"
then one of "timeout", "timed out", ... on the same line. ``chain_regex`` renders that as a
small RE2 pattern; OR-ing those for the whole catalog stays a DFA RE2 can run fast, whereas
OR-ing the regexes themselves (with their bounded repeats) overflows RE2's DFA cache.

Python's regex parser reads the pattern; RE2 syntax it does not know gives None, and the
caller then uses the regex itself, which is slower but still correct.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from typing import Any

__all__ = ["MIN_KEYWORD", "Chain", "chain_regex", "keyword_chain", "minimal"]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import re._constants as _c
    import re._parser as _p

MIN_KEYWORD = 4  # shorter keywords would let most lines through the gate
_LIMIT = 64  # largest set of exact strings one piece of a regex may expand to
_SMALL_CLASS = 8
_NEWLINE = 10
_RE_SPECIAL = set("\\.^$|?*+()[]{}")

_POSIX_CLASS = re.compile(r"\[:\^?[a-z]+:\]")
Keywords = frozenset[str]
_EMPTY: Keywords = frozenset([""])
_NEWLINE_CATEGORIES = {_c.CATEGORY_SPACE, _c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_WORD}


@dataclass(frozen=True)
class Need:
    """A keyword set the text must contain, and whether a newline may precede it (after the
    previous set in the chain)."""

    keywords: Keywords
    newline_before: bool


Chain = list[Need]


def re_escape(text: str) -> str:
    """Escape RE2 metacharacters only (Python's re.escape also escapes spaces; RE2 rejects that)."""
    return "".join("\\" + ch if ch in _RE_SPECIAL else ch for ch in text)


def _product(left: Keywords, right: Keywords) -> Keywords | None:
    if len(left) * len(right) > _LIMIT:
        return None
    return frozenset(a + b for a in left for b in right)


def _can_newline(op: Any, arg: Any) -> bool:
    """Can this piece match text containing a newline? (True when unsure.)"""
    if op is _c.LITERAL:
        return bool(arg == _NEWLINE)
    if op is _c.NOT_LITERAL:
        return bool(arg != _NEWLINE)
    if op is _c.AT:
        return False
    if op is _c.CATEGORY:
        return arg in _NEWLINE_CATEGORIES
    if op is _c.IN:
        if arg and arg[0][0] is _c.NEGATE:
            return (_c.LITERAL, _NEWLINE) not in arg
        return any(_can_newline(o, a) for o, a in arg)
    if op is _c.RANGE:
        return bool(arg[0] <= _NEWLINE <= arg[1])
    if op is _c.SUBPATTERN:
        return any(_can_newline(o, a) for o, a in arg[-1])
    if op is _c.BRANCH:
        return any(_can_newline(o, a) for b in arg[1] for o, a in b)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        return any(_can_newline(o, a) for o, a in arg[2])
    return True


def _char_class(items: Any) -> Keywords | None:
    chars: set[str] = set()
    for op, arg in items:
        if op is _c.LITERAL:
            chars.add(chr(arg).lower())
        elif op is _c.RANGE and arg[1] - arg[0] < _SMALL_CLASS:
            chars.update(chr(c).lower() for c in range(arg[0], arg[1] + 1))
        else:
            return None  # negated classes, categories, wide ranges: not a small exact set
    return frozenset(chars) if len(chars) <= _SMALL_CLASS else None


def _repeat(low: int, high: int, body: Any) -> tuple[Keywords | None, Keywords | None]:
    exact, found = _candidates(body)
    required = _best([n.keywords for n in found]) if low >= 1 else None
    if exact is None or high > 3:
        return None, required
    total: set[str] = set()
    power: Keywords | None = _EMPTY
    for count in range(high + 1):
        if power is None:
            return None, required
        if count >= low:
            total.update(power)
        power = _product(power, exact)
    return (frozenset(total) if len(total) <= _LIMIT else None), required


def _node(op: Any, arg: Any) -> tuple[Keywords | None, Keywords | None]:
    """(every string the piece can match, if few; keywords one of which it must contain)."""
    if op is _c.LITERAL:
        return frozenset([chr(arg).lower()]), None
    if op is _c.AT:
        return _EMPTY, None
    if op is _c.IN:
        return _char_class(arg), None
    if op is _c.SUBPATTERN:
        exact, found = _candidates(arg[-1])
        return exact, _best([n.keywords for n in found])
    if op is _c.BRANCH:
        parts = [_candidates(b) for b in arg[1]]
        exacts = [e for e, _ in parts if e is not None]
        exact = frozenset().union(*exacts) if len(exacts) == len(parts) else None
        needs = [_best([n.keywords for n in found] + ([e] if e else [])) for e, found in parts]
        required = frozenset().union(*(n for n in needs if n)) if all(needs) else None
        return (exact if exact is None or len(exact) <= _LIMIT else None), required
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        return _repeat(*arg)
    return None, None


def _candidates(items: Any) -> tuple[Keywords | None, Chain]:
    """(exact strings of the whole concatenation if few; the keyword sets it needs, in order)."""
    found: Chain = []
    run: Keywords = _EMPTY
    run_newline = False  # may a newline come between the previous need and this run?
    whole = True
    for op, arg in items:
        exact, required = _node(op, arg)
        joined = _product(run, exact) if exact is not None else None
        if joined is not None:
            run = joined
            continue
        whole = False
        if all(run):
            found.append(Need(run, run_newline))
            run_newline = False
        newline = _can_newline(op, arg)
        if required:
            found.append(Need(required, run_newline or newline))
        run = exact if exact is not None else _EMPTY
        run_newline = newline
    if all(run):
        found.append(Need(run, run_newline))
    return (run if whole else None), found


def _score(keywords: Keywords) -> tuple[int, int]:
    return min(len(k) for k in keywords), -len(keywords)


def _best(candidates: list[Keywords]) -> Keywords | None:
    """The most selective set: longest shortest keyword, then fewest keywords."""
    usable = [c for c in candidates if c and all(c)]
    return max(usable, key=_score) if usable else None


def keyword_chain(regex: str, length: int = 2) -> Chain | None:
    """Up to ``length`` keyword sets, in text order, every match contains one of each.

    None when no set with keywords at least MIN_KEYWORD long can be derived. (Each pattern is
    parsed once per process: the gate and the per-signature guards of every classification
    ask for the same patterns.)

    Example:
        >>> chain = keyword_chain(r"(?i)\\bauth service\\b[^\\n]{0,40}\\btimed? ?out")
        >>> [sorted(n.keywords) for n in chain], chain[1].newline_before
        ([['auth service'], ['time out', 'timed out', 'timedout', 'timeout']], False)
    """
    found = _keyword_chain(regex, length)
    return list(found) if found is not None else None


@functools.lru_cache(maxsize=4096)
def _keyword_chain(regex: str, length: int) -> tuple[Need, ...] | None:
    """``keyword_chain``, as a tuple (the cached value is never changed)."""
    if _POSIX_CLASS.search(regex):
        return None  # Python's parser reads RE2's [[:space:]] as a set of "[", ":", ...
    try:
        tree = _p.parse(regex)
    except (re.error, ValueError, OverflowError, RecursionError):
        return None
    _, found = _candidates(list(tree))
    usable = [i for i, n in enumerate(found) if min(len(w) for w in n.keywords) >= MIN_KEYWORD]
    if not usable:
        return None
    chosen = sorted(sorted(usable, key=lambda i: _score(found[i].keywords))[-length:])
    chain = []
    for before, index in zip([None, *chosen], chosen, strict=False):
        # a newline anywhere between the two chosen sets (skipped sets included) counts
        span = found[(before + 1 if before is not None else index) : index + 1]
        newline = any(n.newline_before for n in span) or any(
            "\n" in k for n in span[:-1] for k in n.keywords
        )
        chain.append(Need(found[index].keywords, newline))
    return tuple(chain)


def minimal(keywords: Keywords) -> list[str]:
    """The keywords (sorted) that hold no other keyword of the set: a text holding one of the
    set holds one of these, so testing these alone is the same test ("auth" makes "auth
    service" and forty more redundant). A keyword with a newline is always kept, so a chain's
    ``[^\\n]*`` between two sets still reaches from a kept keyword to the next set."""
    return sorted(k for k in keywords if "\n" in k or not any(o != k and o in k for o in keywords))


def chain_regex(chain: Chain) -> str:
    """The chain as one case-insensitive-ready RE2 pattern (without the ``(?i)`` flag).

    Each set is written as its ``minimal`` keywords: a text the full chain matches holds a
    minimal keyword inside each matched one, and the newline-free rest of that keyword is
    covered by the ``[^\\n]*`` beside it, so the pattern matches the same texts."""
    parts = []
    for i, need in enumerate(chain):
        if i:
            parts.append("(?s:.*)" if need.newline_before else "[^\\n]*")
        parts.append("(?:" + "|".join(re_escape(k) for k in minimal(need.keywords)) + ")")
    return "".join(parts)
