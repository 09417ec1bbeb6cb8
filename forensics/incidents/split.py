"""Split one service's overlapping failures into separate incidents when nothing links them.

Matches of one service close in time form one island; but two failures can overlap on a
service (an instance OOM-killed every two minutes while Cloud SQL runs out of connection slots)
and still be two incidents: different causes, different issues, and neither's evidence explains
the other's symptoms. Each line gets a cause key (a cause line is its own key; a symptom takes
its attributed cause). Keys that are evidence for a common tracked issue are linked; when the
island's keys fall into two or more such groups with no issue in common, the island splits.
Lines without a key of an issue (unattributed symptoms, errors no issue claims) join the group
of the nearest line on the same instance, else the nearest line in time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable

import polars as pl

from forensics.incidents.evidence import IDENTITY

__all__ = ["split_by_cause"]


def _components(keys: dict[str, set[str]]) -> dict[str, int]:
    """Cause key -> component number, keys linked when they share an issue."""
    parent = {k: k for k in keys}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_issue: dict[str, str] = {}
    for key, issues in keys.items():
        for issue in issues:
            if issue in by_issue:
                parent[find(key)] = find(by_issue[issue])
            else:
                by_issue[issue] = key
    roots = sorted({find(k) for k in keys})
    return {k: roots.index(find(k)) for k in keys}


def _nearest_in(times: list[int], parts: list[int], when: int) -> int:
    """The part of the line nearest in time to ``when`` among ``times`` (sorted, not empty),
    ties to the earlier line and, among equal times, to the first: O(log p) binary searches."""
    right = bisect_right(times, when)  # lines at or before it
    left = bisect_left(times, when)  # the first line at or after it
    if left == len(times) or (right > 0 and when - times[right - 1] <= times[left] - when):
        return parts[bisect_left(times, times[right - 1])]
    return parts[left]


def _nearest_parts(
    times: list[int], instances: list[str | None], parts: list[int | None]
) -> list[int]:
    """Each line's part: its own, else that of the placed line nearest in time on the same
    instance if any is placed there, else of the placed line nearest in time (lines sorted by
    time; at least one placed). O(n log n), not the pairs of lines."""
    pools: dict[str | None, tuple[list[int], list[int]]] = {None: ([], [])}
    for when, instance, part in zip(times, instances, parts, strict=True):
        if part is not None:
            for pool in (None, instance) if instance else (None,):
                pool_times, pool_parts = pools.setdefault(pool, ([], []))
                pool_times.append(when)
                pool_parts.append(part)
    out: list[int] = []
    for when, instance, part in zip(times, instances, parts, strict=True):
        if part is None:
            pool_times, pool_parts = pools.get(instance or None) or pools[None]
            part = _nearest_in(pool_times, pool_parts, when)
        out.append(part)
    return out


def split_by_cause(
    rows: pl.DataFrame,
    symptoms: pl.DataFrame,
    symptom_ids: set[str],
    issues_of: Callable[[str], list[str]],
) -> list[pl.DataFrame]:
    """The island's rows as one frame per unlinked failure (one frame when all are linked).

    Args:
        rows: the island's primary matches (IDENTITY, signature, instance_id, ...).
        symptoms: the symptom attribution (IDENTITY and ``cause``).
        symptom_ids: signatures that are symptoms.
        issues_of: a cause key -> the tracked issues it is direct evidence for.
    """
    causes = symptoms.select(*IDENTITY, pl.col("cause").alias("_cause"))
    keyed = rows.join(causes, on=IDENTITY, how="left").with_columns(
        pl.when(pl.col("signature").is_in(list(symptom_ids)))
        .then(pl.col("_cause"))
        .otherwise(pl.col("signature"))
        .alias("_key")
    )
    keys = {str(k): set(issues_of(str(k))) for k in keyed["_key"].drop_nulls().unique()}
    with_issue = {k: v for k, v in keys.items() if v}
    component = _components(with_issue)
    if len(set(component.values())) < 2:
        return [rows]
    ordered = keyed.sort("timestamp", maintain_order=True)
    parts = _nearest_parts(
        ordered["timestamp"].dt.epoch("us").to_list(),
        ordered["instance_id"].to_list(),
        [None if key is None else component.get(key) for key in ordered["_key"].to_list()],
    )
    numbered = ordered.with_columns(pl.Series("_part", parts)).drop("_cause", "_key")
    return [part.drop("_part") for _, part in numbered.group_by("_part", maintain_order=True)]
