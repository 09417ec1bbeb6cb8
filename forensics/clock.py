"""Clocks that pacing, backoff and the emulator's quota read, so tests can run minutes in seconds.

Usage:
  1. Production uses ``RealClock`` (monotonic seconds, real sleeps).
  2. Tests that need quota minutes to pass quickly share one ``ScaledClock(scale)`` between the
     collector and the emulator: a scaled minute lasts ``60 / scale`` real seconds.
  3. Benchmarks use ``FastForwardClock``: a sleep returns at once and adds its length to the
     clock, so the clock's elapsed time is what the run would take against the real quota
     (processing time plus every wait), while the run itself takes only the processing time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "FastForwardClock", "RealClock", "ScaledClock"]


class Clock(Protocol):
    """Monotonic seconds and a way to wait."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall time: ``time.monotonic`` and ``time.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """Time that runs ``scale`` times faster than real time.

    CLOCK_MONOTONIC is system-wide, so two processes with the same scale agree on durations.
    """

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale = scale

    def now(self) -> float:
        return time.monotonic() * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)


class FastForwardClock:
    """Real time plus every sleep taken so far: waits cost nothing but are accounted for."""

    def __init__(self) -> None:
        self._skipped = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.monotonic() + self._skipped

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._skipped += seconds

    @property
    def skipped(self) -> float:
        """Seconds of waiting that were fast-forwarded."""
        with self._lock:
            return self._skipped
