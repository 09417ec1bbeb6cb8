"""Pack the signatures' pushdown clauses into as few Cloud Logging filters as the API allows.

Split from forensics.collectors.filters (which says what a collection asks for): this says how
the catalog's clauses share the filters' length, each further filter being one more
entries.list call per page under the 60-a-minute quota.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from forensics.errors import ConfigError

__all__ = ["MAX_FILTER_CHARS", "TIME_RESERVE", "HasLoggingFilter", "filter_budget", "pack"]

MAX_FILTER_CHARS = 20_000  # the API's limit on a filter's length
TIME_RESERVE = 3_500  # room left for timestamp ranges (context pulls use up to 40)


class HasLoggingFilter(Protocol):
    """What the collector needs from a signature: an id and a Logging query-language clause."""

    @property
    def id(self) -> str: ...

    def pushdown_filter(self, coarse: bool = False) -> str: ...


def filter_budget(scope: str) -> int:
    """The characters a filter of ``scope`` leaves for candidate clauses."""
    return MAX_FILTER_CHARS - len(scope) - TIME_RESERVE


def pack(scope: str, first: str, signatures: Sequence[HasLoggingFilter]) -> list[str]:
    """OR the signatures' clauses onto ``first``, in as few filters as the length limit allows.

    The catalog's clauses are long (case-insensitive regexes on two payload fields). When they
    do not fit next to the scope in one filter, the rest go into further filters: one more
    call each per page, instead of failing or silently dropping a signature. Each signature
    sends its precise clause unless that costs a filter: then the ones whose coarse clause
    (all keywords) saves the most give theirs, until the count is what the coarse ones need.
    O(s^2 f) for s signatures and f filters (46 and 3).
    """
    budget = filter_budget(scope)
    precise: list[tuple[int, str]] = []  # (catalog position, clause)
    coarse: dict[int, str] = {}
    for position, sig in enumerate(signatures):
        clause = sig.pushdown_filter().strip()
        if not clause:
            continue
        rough = sig.pushdown_filter(coarse=True).strip()
        if len(rough) + 8 > budget:
            raise ConfigError(
                f"signature {sig.id}: its logging filter is {len(rough):,} characters, too long "
                f"for one Logging filter ({MAX_FILTER_CHARS:,} with the scope); shorten it"
            )
        if len(clause) + 8 > budget:
            clause = rough  # a precise clause must fit a filter by itself
        precise.append((position, f"({clause})"))
        if rough != clause:
            coarse[position] = f"({rough})"
    fewest = len(_first_fit(first, [(p, coarse.get(p, c)) for p, c in precise], budget))
    chosen = dict(precise)
    # the coarse clause where it saves the most, until the filters are as few as they can be
    for position in sorted(coarse, key=lambda p: len(coarse[p]) - len(chosen[p])):
        if len(_first_fit(first, list(chosen.items()), budget)) <= fewest:
            break
        chosen[position] = coarse[position]
    return _first_fit(first, list(chosen.items()), budget)


def _first_fit(first: str, clauses: list[tuple[int, str]], budget: int) -> list[str]:
    """The filters ``first`` and the clauses fill, first fit by decreasing length (each clause,
    longest first, into the first filter with room; within a filter the catalog's order):
    filled in catalog order, the catalog needed a filter more than the clauses' total length
    does. O(c f) for c clauses and f filters."""
    groups: list[list[tuple[int, str]]] = [[(-1, first)]]
    lengths = [len(first)]  # each filter's " OR "-joined length so far
    for position, clause in sorted(clauses, key=lambda c: (-len(c[1]), c[0])):
        target = next(
            (i for i, used in enumerate(lengths) if used + len(clause) + 8 <= budget), None
        )
        if target is None:
            groups.append([])
            lengths.append(-4)  # no " OR " before a filter's first clause
            target = len(groups) - 1
        groups[target].append((position, clause))
        lengths[target] += len(clause) + 4
    return ["(" + " OR ".join(c for _, c in sorted(g)) + ")" for g in groups]
