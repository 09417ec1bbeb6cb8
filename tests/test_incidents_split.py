"""Lines no tracked issue claims join the failure of the nearest line (forensics.incidents.split).

The binary searches must place every line exactly where the plain definition does: the placed
line nearest in time on the same instance if that instance has one, else the nearest overall;
ties to the earlier line, and among lines of equal time to the first.
"""

from __future__ import annotations

import random

import pytest

from forensics.incidents.split import _nearest_parts


def _by_definition(
    times: list[int], instances: list[str | None], parts: list[int | None]
) -> list[int]:
    """The definition, pair by pair: O(n^2)."""
    placed = [(t, i, p) for t, i, p in zip(times, instances, parts, strict=True) if p is not None]
    out = []
    for when, instance, part in zip(times, instances, parts, strict=True):
        if part is None:
            same = [p for p in placed if instance and p[1] == instance]
            part = min(same or placed, key=lambda p: abs(p[0] - when))[2]
        out.append(part)
    return out


@pytest.mark.parametrize("seed", range(200))
def test_nearest_parts_follow_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    # few distinct times and instances, so ties and empty instances are common
    times = sorted(rng.randint(0, rng.choice([3, 20, 10**6])) for _ in range(n))
    instances = [rng.choice([None, "", "a", "b", "c"]) for _ in range(n)]
    parts: list[int | None] = [rng.choice([None, None, 0, 1, 2]) for _ in range(n)]
    if all(p is None for p in parts):
        parts[rng.randrange(n)] = 1
    assert _nearest_parts(times, instances, parts) == _by_definition(times, instances, parts)


def test_a_large_island_is_placed_line_by_line_as_defined() -> None:
    # 20,000 lines of 7 instances, half unclaimed (the old pairwise loop compared 100 million
    # pairs here); a sample of lines checked against the definition
    rng = random.Random(7)
    n = 20_000
    times = sorted(rng.randint(0, 5_000) for _ in range(n))
    instances: list[str | None] = [f"i{k % 7}" for k in range(n)]
    parts: list[int | None] = [rng.choice([0, 1, 2]) if k % 2 else None for k in range(n)]
    placed = _nearest_parts(times, instances, parts)
    placed_lines = [
        (t, i, p) for t, i, p in zip(times, instances, parts, strict=True) if p is not None
    ]
    for k in rng.sample(range(0, n, 2), 100):
        same = [p for p in placed_lines if p[1] == instances[k]]
        assert placed[k] == min(same, key=lambda p: abs(p[0] - times[k]))[2]
