"""Run a step every interval until stopped: signals, cancellation and failed runs.

Usage:
  1. ``with stop_on_signals() as stop:`` turns the first SIGINT or SIGTERM into a stop request
     (a second one restores the default handler, so it kills at once).
  2. ``run_every(step, interval_s, stop=stop, iterations=N, on_failure=...)`` calls
     ``step(cancel)`` in a worker thread so that the main thread stays free to notice a stop.
     On a stop during a step, ``cancel.cancel()`` interrupts the DuckDB statement the step
     attached; its transaction rolls back, the step's ``with open_store`` closes the file, and
     the loop waits up to ``grace_s`` for that before giving up on the step.
  3. A step that raises is reported through ``on_failure`` and the loop goes on.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

__all__ = ["Cancel", "LoopSummary", "StopFlag", "run_every", "stop_on_signals"]

_POLL_S = 0.2  # how often the main thread looks at the stop flag while it waits


class _Interruptible(Protocol):
    def interrupt(self) -> None: ...


class StopFlag(threading.Event):
    """A stop request, with the name of the signal that made it (for the closing message)."""

    reason: str = ""

    def request(self, reason: str) -> None:
        self.reason = self.reason or reason
        self.set()


class Cancel:
    """Lets the loop interrupt the DuckDB work of the running step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: _Interruptible | None = None
        self.cancelled = False

    def attach(self, conn: _Interruptible) -> None:
        with self._lock:
            self._conn = conn
            if self.cancelled:
                conn.interrupt()

    def detach(self) -> None:
        with self._lock:
            self._conn = None

    def cancel(self) -> bool:
        """Interrupt the attached connection; returns whether one was attached."""
        with self._lock:
            self.cancelled = True
            if self._conn is None:
                return False
            self._conn.interrupt()
            return True


@contextmanager
def stop_on_signals(
    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[StopFlag]:
    """A StopFlag set by the first of ``signals``; the previous handlers come back on exit."""
    stop = StopFlag()
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.request(signal.Signals(signum).name)
        for sig in signals:  # a second signal gets the default behaviour: stop now
            signal.signal(
                sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler
            )

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass
class LoopSummary:
    """What happened: runs finished and failed, the last result, whether a run was abandoned."""

    completed: int = 0
    failed: int = 0
    abandoned: bool = False
    still_running: bool = False  # the abandoned step's thread did not finish in the grace time
    last: Any = None


def _run_step(step: Callable[[Cancel], Any], stop: StopFlag, grace_s: float) -> tuple[str, Any]:
    """Run one step in a worker thread: ('ok', result), ('failed', error), or
    ('abandoned', still_running) when a stop came first."""
    cancel = Cancel()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["ok"] = step(cancel)
        except BaseException as err:  # reported by the loop, never fatal to it
            outcome["failed"] = err

    worker = threading.Thread(target=work, name="forensics-watch-step", daemon=True)
    worker.start()
    while worker.is_alive() and not stop.is_set():
        worker.join(_POLL_S)
    if worker.is_alive():  # stopping: interrupt DuckDB, let the step unwind and close the store
        holds_store = cancel.cancel()
        # a step that has not opened the store yet (waiting for its lock, or on the network)
        # holds nothing that could be left half-written: no reason to wait for it
        worker.join(grace_s if holds_store else min(grace_s, _POLL_S))
        return ("abandoned", worker.is_alive())
    if "failed" in outcome:
        return ("failed", outcome["failed"])
    return ("ok", outcome.get("ok"))


def run_every(
    step: Callable[[Cancel], Any],
    interval_s: float,
    *,
    stop: StopFlag,
    iterations: int | None = None,
    on_result: Callable[[int, Any], None] = lambda n, r: None,
    on_failure: Callable[[int, BaseException], None] = lambda n, e: None,
    grace_s: float = 10.0,
) -> LoopSummary:
    """Call ``step`` every ``interval_s`` seconds (fixed rate) until stopped or done.

    Args:
        step: the work of one interval; it receives a Cancel to attach its connection to.
        interval_s: seconds from the start of one run to the start of the next; a run that
            takes longer is followed at once by the next.
        stop: set by a signal (see ``stop_on_signals``) or by the caller.
        iterations: stop after this many runs (failed runs count); None means forever.
        on_result, on_failure: called with the run number and the result or the error.
        grace_s: how long a stopping step may take to unwind before it is abandoned.
    """
    summary = LoopSummary()
    run = 0
    while not stop.is_set():
        run += 1
        started = time.monotonic()
        status, value = _run_step(step, stop, grace_s)
        if status == "abandoned":
            summary.abandoned = True
            summary.still_running = bool(value)
            break
        if status == "failed":
            summary.failed += 1
            on_failure(run, value)
        else:
            summary.completed += 1
            summary.last = value
            try:
                on_result(run, value)
            except Exception as err:  # reporting (printing, posting) must not end the loop
                on_failure(run, err)
        if iterations is not None and run >= iterations:
            break
        deadline = started + interval_s
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            stop.wait(min(left, _POLL_S))
    return summary
