"""How often the diff's spike rule fires on noise, and how often it catches a real jump.

Simulates daily counts of one signature on one service: a baseline (one day, or the mean of
seven) and today's count, both drawn from the same rate (noise) or today's from a multiple of
it (a real spike). Noise is Poisson, and also overdispersed (gamma-Poisson, the usual shape
of error counts: bursty days). Compares the rule `forensics diff` uses (count >= 10, >= 3x the
baseline, Poisson tail p < 0.001) with two bare rules: "+50%" and "3x". Seeded: the figures are
the same on every run.

    python benchmarks/spike_rule.py [--days 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable

from forensics.snapshots.spike import SpikeRule

RATES = (0.5, 2.0, 5.0, 20.0, 100.0, 1000.0)
JUMPS = (2.0, 3.0, 5.0, 10.0)
DISPERSION = 4.0  # gamma shape: variance = rate + rate^2 / 4 (a bursty but ordinary source)


def poisson(rate: float, rng: random.Random) -> int:
    """A Poisson draw: Knuth's product for small rates, Hörmann's PTRS (as numpy) otherwise."""
    if rate <= 0:
        return 0
    if rate < 10:
        limit, k, product = math.exp(-rate), 0, rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k
    slam, loglam = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + rate + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= (
            -rate + k * loglam - math.lgamma(k + 1)
        ):
            return k


def bursty(rate: float, rng: random.Random) -> int:
    """Overdispersed counts: the day's rate itself varies (gamma), then Poisson."""
    return poisson(rng.gammavariate(DISPERSION, rate / DISPERSION), rng)


Rule = Callable[[int, float], bool]


def rules() -> dict[str, Rule]:
    forensics = SpikeRule()
    return {
        "forensics": lambda c, b: b > 0 and forensics.test(c, b)[0],
        "+50%": lambda c, b: b > 0 and c >= 1.5 * b,
        "3x": lambda c, b: b > 0 and c >= 3 * b,
    }


def rate_of(
    rule: Rule,
    rate: float,
    jump: float,
    days: int,
    baseline_days: int,
    draw: Callable,
    rng: random.Random,
) -> float:
    """Share of simulated days on which ``rule`` fires (a baseline of 0 is 'new', not a spike)."""
    fired = 0
    for _ in range(days):
        baseline = sum(draw(rate, rng) for _ in range(baseline_days)) / baseline_days
        fired += rule(draw(rate * jump, rng), baseline)
    return fired / days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20000, help="simulated days per cell")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    named = rules()
    print(f"False alarms per 1,000 ordinary days ({args.days:,} simulated days per cell)")
    print(f"{'noise':8} {'baseline':8} {'rate/day':>8} " + " ".join(f"{n:>10}" for n in named))
    for noise, draw in (("poisson", poisson), ("bursty", bursty)):
        for baseline_days in (1, 7):
            for rate in RATES:
                rng = random.Random(args.seed)
                cells = [
                    1000 * rate_of(rule, rate, 1.0, args.days, baseline_days, draw, rng)
                    for rule in named.values()
                ]
                print(
                    f"{noise:8} {str(baseline_days) + 'd':8} {rate:8g} "
                    + " ".join(f"{c:10.2f}" for c in cells)
                )
    print(f"\nDetected share of real jumps (poisson noise, 7d baseline, {args.days:,} days)")
    print(f"{'rate/day':>8} {'jump':>5} " + " ".join(f"{n:>10}" for n in named))
    for rate in RATES:
        for jump in JUMPS:
            rng = random.Random(args.seed)
            cells = [rate_of(r, rate, jump, args.days, 7, poisson, rng) for r in named.values()]
            print(f"{rate:8g} {jump:5g} " + " ".join(f"{c:10.3f}" for c in cells))


if __name__ == "__main__":
    main()
