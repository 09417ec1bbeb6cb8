"""The noise-aware spike rule: large, relatively and absolutely, and improbable at the baseline.

A count ``c`` against a baseline of ``b`` per period (one day, or the mean of seven) is a spike
when all three hold:

  1. ``c >= min_count``          a handful of errors is never a page, whatever the ratio;
  2. ``c >= ratio * b``          a real change in level, not a wobble;
  3. ``P(X >= c | Poisson(b)) < p_value``  the jump is not what chance gives at that rate.

Each test alone is fooled by something. A ratio alone pages on 3 against 1; a minimum count
alone pages on a busy signature's ordinary day; the Poisson test alone pages on 1,100 against
1,000 (p < 0.001 at that size, yet only +10%). Together: 10 against 3 passes (1) and (2) but
P(X >= 10 | 3) = 0.0011, so it is not a spike; 30 against 8 has P = 2e-9, and it is.
Daily error counts are burstier than Poisson, which is why (2) stays in: the Poisson test
alone would be too eager. A baseline of zero is not a spike but a *new* item, reported in its own
category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["SpikeRule", "poisson_sf"]


def poisson_sf(count: int, rate: float) -> float:
    """P(X >= count) for X ~ Poisson(rate), accurate far into the tail (no 1 - cdf).

    Sums the pmf from ``count`` upward in log space; past the mode each term shrinks by
    ``rate / (k + 1)``, so the remainder is bounded by a geometric series and the loop stops
    once it cannot change the result.

    Example:
        >>> round(poisson_sf(3, 1.0), 6)
        0.080301
    """
    if count <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    if count <= rate:  # the bulk: the upper tail is not small, 1 - cdf is accurate here
        cdf = sum(math.exp(k * math.log(rate) - rate - math.lgamma(k + 1)) for k in range(count))
        return max(0.0, min(1.0, 1.0 - cdf))
    log_term = count * math.log(rate) - rate - math.lgamma(count + 1)
    term = math.exp(log_term)
    total = term
    k = count
    while True:
        ratio = rate / (k + 1)
        term *= ratio
        total += term
        k += 1
        # what is left is at most term * ratio / (1 - ratio): stop when it is negligible
        if term == 0.0 or term * ratio / (1 - ratio) < total * 1e-12:
            return min(1.0, total)


@dataclass(frozen=True)
class SpikeRule:
    """Thresholds of the spike rule (see the module docstring). All three must hold."""

    min_count: int = 10
    ratio: float = 3.0
    p_value: float = 0.001

    def __post_init__(self) -> None:
        if self.min_count < 1 or self.ratio < 1 or not 0 < self.p_value < 1:
            raise ValueError("spike rule: min_count >= 1, ratio >= 1 and 0 < p_value < 1")

    def test(self, count: int, baseline: float) -> tuple[bool, float]:
        """(is_spike, p) for ``count`` against a baseline rate ``baseline`` (> 0)."""
        p = poisson_sf(count, baseline)
        spike = (
            baseline > 0
            and count >= self.min_count
            and count >= self.ratio * baseline
            and p < self.p_value
        )
        return spike, p

    def as_dict(self) -> dict[str, float]:
        return {"min_count": self.min_count, "ratio": self.ratio, "p_value": self.p_value}
