"""One `forensics watch` interval: collect, classify, analyse, and compare with the previous run.

Usage:
  1. ``Monitor(db, lookback, interval, rule, collect=...)`` keeps the previous run's State.
  2. ``monitor.run_once(cancel)`` opens the store for the interval only (so a person or a
     cron job can use it in between), attaches the connection to ``cancel`` so a stop
     interrupts it, and returns a WatchRun whose ``changes`` is a DiffResult.

What counts as a change, run to run, over the lookback window (default 24 h):
  - a signature (on a service) or unknown-error template that was not in the previous run's
    window, or one that left it (gone);
  - an issue whose status changed, or that is regressed or contradicted on the first run;
  - a spike: the last interval's count against the rate over the rest of the lookback window,
    with the diff's spike rule; reported when it starts, not again while it lasts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from forensics.analysis import AnalysisModel
from forensics.pipeline import Sources, build_model, open_for_reading
from forensics.snapshots.diff import DiffResult, Spike, compare
from forensics.snapshots.model import ItemKey, State
from forensics.snapshots.spike import SpikeRule
from forensics.timeutil import Window, utcnow
from forensics.watch.loop import Cancel

__all__ = ["CollectStep", "Monitor", "WatchRun"]

CollectStep = Callable[[Window], str | None]  # collects the window; returns a one-line summary


@dataclass
class WatchRun:
    """One interval's outcome."""

    window: Window
    state: State
    changes: DiffResult
    first: bool
    model: AnalysisModel  # the window's analysis: the state and the spike counts come from it
    collected: str | None = None

    @property
    def changed(self) -> bool:
        c = self.changes
        return bool(
            c.issue_changes or c.new_signatures or c.spikes or c.new_templates or c.gone_signatures
        )


class Monitor:
    """Runs intervals and remembers what the previous one saw."""

    def __init__(
        self,
        db: Path,
        lookback: timedelta,
        interval: timedelta,
        rule: SpikeRule,
        *,
        collect: CollectStep | None = None,
        issues_file: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.lookback = lookback
        self.interval = min(interval, lookback)
        self.rule = rule
        self.collect = collect
        self.issues_file = issues_file
        self.clock = clock
        self.previous: State | None = None
        self.spiking: set[ItemKey] = set()

    def run_once(self, cancel: Cancel) -> WatchRun:
        """Collect (when configured), then read the window and compare with the last run."""
        now = self.clock()
        window = Window(now - self.lookback, now)
        collected = self.collect(window) if self.collect is not None else None
        sources = Sources.load(self.issues_file)  # each run: edits to patterns/ take effect
        with open_for_reading(self.db) as store:  # collecting classified; reading writes nothing
            cancel.attach(store.conn)
            try:
                model = build_model(store, window, sources, recent_since=now - self.interval)
            finally:
                cancel.detach()
        state = model.snapshot_state(_label(self.lookback))
        first = self.previous is None
        changes = compare(
            state, [self.previous] if self.previous else [], self.rule, first_run=first
        )
        spikes = self._spikes(model.signature_totals())
        changes.spikes = [
            s for s in spikes if (("signature", s.key, s.service)) not in self.spiking
        ]
        self.spiking = {("signature", s.key, s.service) for s in spikes}
        self.previous = state
        return WatchRun(window, state, changes, first, model, collected)

    def _spikes(self, counts: dict[tuple[str, str], tuple[int, int]]) -> list[Spike]:
        """The last interval against the rest of the lookback window, as a rate per interval.

        ``counts`` are the model's (signature, service) -> (window, last interval) primary
        counts: the numbers `analyze` shows, so a spike is made of the lines it counts."""
        rest = self.lookback - self.interval
        if rest <= timedelta(0):
            return []
        scale = self.interval / rest
        spikes = []
        for (signature, service), (total, count) in counts.items():
            baseline = (total - count) * scale
            if count <= 0 or baseline <= 0:
                continue  # nothing before: that is a new signature, not a spike
            spike, p = self.rule.test(count, baseline)
            if spike:
                where = None if service == "(none)" else service  # entries with no service
                spikes.append(Spike(signature, where, count, baseline, count / baseline, p))
        return sorted(spikes, key=lambda s: s.p_value)


def _label(lookback: timedelta) -> str:
    """'the last 24h': the same every run, so notes that repeat can be recognised."""
    seconds = lookback.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"the last {int(seconds // size)}{unit}"
    return f"the last {seconds:g}s"
