"""The emulator's bad days: the per-minute read quota and injected faults, decided per call.

Usage:
  1. ``Quota(per_minute, clock)``: ``admit(project)`` is False once the project made
     ``per_minute`` calls in the last 60 s of the clock (a sliding window, stricter than a
     fixed minute). Refused calls do not count, as with the real quota.
  2. ``FaultInjector(FaultPlan(...), clock)``: ``decide(filter_text)`` returns what to do with
     one call: answer normally, answer 429 or 503, drop the connection, and how long to stall
     first. Seeded, so a test's storm is the same storm every run.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field

from forensics.clock import Clock

__all__ = ["Decision", "FaultInjector", "FaultPlan", "Quota"]


@dataclass(frozen=True)
class FaultPlan:
    """Which faults to inject; all off by default."""

    rate_429: float = 0.0  # probability that a call answers 429 RESOURCE_EXHAUSTED
    burst_503_every: int = 0  # after every N calls answered normally ...
    burst_503_length: int = 0  # ... the next L calls answer 503 UNAVAILABLE
    slow_rate: float = 0.0  # probability that a call stalls ...
    slow_s: float = 0.0  # ... for this many clock seconds before answering
    drop_rate: float = 0.0  # probability that the connection is closed without an answer
    outage: tuple[str, ...] = ()  # calls whose filter contains one of these answer 503, always
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("rate_429", "slow_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.burst_503_every < 0 or self.burst_503_length < 0 or self.slow_s < 0:
            raise ValueError("burst sizes and slow_s must not be negative")


@dataclass(frozen=True)
class Decision:
    """What to do with one call."""

    action: str = "ok"  # ok, 429, 503, drop
    stall_s: float = 0.0


@dataclass
class FaultInjector:
    """Turns a FaultPlan into per-call decisions (thread-safe)."""

    plan: FaultPlan
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self._rng = random.Random(self.plan.seed)
        self._lock = threading.Lock()
        self._since_burst = 0
        self._burst_left = 0

    def decide(self, filter_text: str = "") -> Decision:
        p = self.plan
        with self._lock:
            stall = p.slow_s if p.slow_rate and self._rng.random() < p.slow_rate else 0.0
            if any(marker in filter_text for marker in p.outage):
                action = "503"
            elif self._burst_left > 0:
                self._burst_left -= 1
                action = "503"
            elif p.drop_rate and self._rng.random() < p.drop_rate:
                action = "drop"
            elif p.rate_429 and self._rng.random() < p.rate_429:
                action = "429"
            else:
                action = "ok"
                self._since_burst += 1
                if p.burst_503_every and self._since_burst >= p.burst_503_every:
                    self._since_burst = 0
                    self._burst_left = p.burst_503_length
            self.counts[action] += 1
            if stall:
                self.counts["slow"] += 1
        return Decision(action, stall)


class Quota:
    """Calls per sliding minute per project, on the emulator's clock."""

    def __init__(self, per_minute: int, clock: Clock) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self, project: str) -> bool:
        if self.per_minute <= 0:
            return True  # 0 turns the quota off
        now = self.clock.now()
        with self._lock:
            calls = self._calls[project]
            while calls and calls[0] <= now - 60.0:
                calls.popleft()
            if len(calls) >= self.per_minute:
                self.refused += 1
                return False
            calls.append(now)
            return True
