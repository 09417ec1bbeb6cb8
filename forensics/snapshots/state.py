"""The State of a window (signature counts, templates, issue statuses), read from the model.

Usage:
  ``window_state(store, window, label=..., sources=Sources.load(issues_file))`` builds the
  window's analysis model (forensics.pipeline.build_model: it reads the store and writes
  nothing) and returns ``AnalysisModel.snapshot_state(label)``: what snapshots store and watch
  compares is what `analyze` shows, from the same facts.
"""

from __future__ import annotations

from forensics.analysis import ISSUE_DETAILS
from forensics.pipeline import Sources, build_model
from forensics.snapshots.model import State
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["ISSUE_DETAILS", "Sources", "window_state"]


def window_state(
    store: Store,
    window: Window,
    *,
    label: str,
    classify: bool = True,
    sources: Sources | None = None,
) -> State:
    """Everything a snapshot or a watch run records about ``window``.

    Args:
        store: an open store (read-only is enough).
        window: the period, e.g. one UTC day.
        label: how reports name the period (a date, or the window).
        classify: ignored (kept for callers): reading never writes classification; runs not
            classified with the current catalog are classified in memory for the answer.
        sources: catalog and registry (default ``Sources.load()``); the catalog's version is
            recorded so that a diff can tell when it changed.
    """
    del classify
    return build_model(store, window, sources or Sources.load()).snapshot_state(label)
