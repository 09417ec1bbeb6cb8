"""Daily snapshots and the diff that scheduled jobs run: what is new, what spiked, what came back.

Public API:
  - ``take_snapshot(store, day, *, classify=True) -> State``: compute and store one UTC day
    (idempotent: the day's rows are replaced in one transaction); ``take_snapshots(store, days)``
    classifies their span once.
  - ``load_day(store, day) -> State``, ``stored_days(store) -> list[date]``.
  - ``export_snapshots(store, path, fmt, days) -> int``: JSON array or Parquet.
  - ``window_state(store, window, *, label, classify=True) -> State``: the same, for any window.
  - ``diff_days(store, day, spec, rule) -> DiffResult`` and ``compare(current, baseline, rule)``.
  - ``SpikeRule(min_count=10, ratio=3.0, p_value=0.001)``: the noise-aware spike rule.
"""

from forensics.snapshots.diff import DiffResult, compare, diff_days
from forensics.snapshots.model import Item, State
from forensics.snapshots.spike import SpikeRule, poisson_sf
from forensics.snapshots.state import window_state
from forensics.snapshots.storage import (
    export_snapshots,
    load_day,
    stored_days,
    take_snapshot,
    take_snapshots,
)

__all__ = [
    "DiffResult",
    "Item",
    "SpikeRule",
    "State",
    "compare",
    "diff_days",
    "export_snapshots",
    "load_day",
    "poisson_sf",
    "stored_days",
    "take_snapshot",
    "take_snapshots",
    "window_state",
]
