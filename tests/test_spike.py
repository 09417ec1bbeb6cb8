"""The spike rule: the Poisson tail against exact arithmetic, and each of the three conditions."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from forensics.snapshots.spike import SpikeRule, poisson_sf


def exact_sf(count: int, rate: int) -> float:
    """P(X >= count) = 1 - e^-rate * sum_{k<count} rate^k / k!, in rationals (no float loss).

    e^rate is its own series cut at 200 terms: for rates up to 10 the cut is below 1e-150.
    """
    partial = sum(Fraction(rate**k, math.factorial(k)) for k in range(count))
    e_rate = sum(Fraction(rate**k, math.factorial(k)) for k in range(200))
    return float((e_rate - partial) / e_rate)


@pytest.mark.parametrize(
    ("count", "rate"), [(1, 1), (3, 1), (10, 3), (12, 3), (30, 8), (20, 5), (50, 10), (8, 8)]
)
def test_poisson_tail_matches_exact_arithmetic(count: int, rate: int) -> None:
    assert poisson_sf(count, float(rate)) == pytest.approx(exact_sf(count, rate), rel=1e-9)


def test_poisson_tail_edges() -> None:
    assert poisson_sf(0, 5.0) == 1.0
    assert poisson_sf(3, 0.0) == 0.0
    tiny = poisson_sf(400, 10.0)
    assert 0 <= tiny < 1e-200  # far tail: no cancellation to a wrong 0 or a negative


@pytest.mark.parametrize(
    ("count", "baseline", "expected", "why"),
    [
        (30, 8.0, True, "large, 3.75x and p ~ 2e-9"),
        (9, 1.0, False, "below min_count although 9x"),
        (25, 10.0, False, "2.5x: below the ratio although p < 0.001"),
        (10, 3.0, False, "ratio and count pass but p = 0.0011"),
        (12, 3.0, True, "p = 7e-5"),
        (1100, 1000.0, False, "p < 0.001 but only +10%"),
        (5, 0.0, False, "no baseline: a new item, not a spike"),
    ],
)
def test_rule_needs_all_three_conditions(
    count: int, baseline: float, expected: bool, why: str
) -> None:
    spike, p = SpikeRule().test(count, baseline)
    assert spike is expected, why
    if baseline > 0:
        assert p == pytest.approx(poisson_sf(count, baseline))


def test_thresholds_are_configurable_and_checked() -> None:
    assert SpikeRule(min_count=5).test(9, 1.0)[0]
    assert SpikeRule(ratio=2.0).test(25, 10.0)[0]
    assert SpikeRule(p_value=0.01).test(10, 3.0)[0]
    for bad in ({"min_count": 0}, {"ratio": 0.5}, {"p_value": 1.5}):
        with pytest.raises(ValueError):
            SpikeRule(**bad)  # type: ignore[arg-type]
