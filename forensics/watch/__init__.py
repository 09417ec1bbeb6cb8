"""`forensics watch`: a monitor loop over the store, with change detection and webhook alerts.

Public API:
  - ``Monitor(db, lookback, interval, rule, *, collect=None).run_once(cancel) -> WatchRun``.
  - ``run_every(step, interval_s, *, stop, iterations=None, on_result, on_failure, grace_s)``
    and ``stop_on_signals()``: the loop, SIGINT/SIGTERM handling and cancellation.
  - ``post_json(url, payload, *, attempts, backoff_s, timeout_s, stop) -> Delivery`` and
    ``slack_payload(title, lines, footer)``.
"""

from forensics.watch.loop import Cancel, LoopSummary, StopFlag, run_every, stop_on_signals
from forensics.watch.monitor import Monitor, WatchRun
from forensics.watch.webhook import Delivery, post_json, slack_payload

__all__ = [
    "Cancel",
    "Delivery",
    "LoopSummary",
    "Monitor",
    "StopFlag",
    "WatchRun",
    "post_json",
    "run_every",
    "slack_payload",
    "stop_on_signals",
]
