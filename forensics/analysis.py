"""The main job's content: what the store says about one window, as plain data.

``analyze_window`` returns a dict that the CLI renders with rich and prints as JSON, and that
reports reuse. Later stages (signatures, incidents, issue status) add keys here rather than
adding commands, so that `forensics analyze` stays the one command to run.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.incidents import Registry, analyze_incidents, load_registry
from forensics.signatures.summary import signature_summary
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["analyze_window", "volume_pivot"]

TOP_ERRORS = 15


def volume_pivot(volume: pl.DataFrame) -> pl.DataFrame:
    """Hour × service rows with one column per severity present (ordered by level)."""
    if volume.is_empty():
        return volume
    order = (
        volume.select("severity", "severity_number")
        .unique()
        .sort("severity_number")["severity"]
        .to_list()
    )
    pivot = volume.pivot(on="severity", index=["hour", "service"], values="n").fill_null(0)
    pivot = pivot.select(["hour", "service", *order])
    return pivot.with_columns(pl.sum_horizontal(order).alias("total")).sort("hour", "service")


def analyze_window(
    store: Store, window: Window, *, registry: Registry | None = None
) -> dict[str, Any]:
    """Everything `forensics analyze` shows for ``window``, as JSON-ready data.

    The incidents stage adds issues (status from evidence, contradictions first), incidents,
    deploys, drift, checks and signature_revisions (see forensics.incidents.build_analysis).
    """
    registry = registry or load_registry()
    params = {**window.params(), "limit": TOP_ERRORS}
    volume = run_named(store, "hour_service_severity_volume", params)
    errors = run_named(store, "window_error_messages_top", params)
    held = run_named(store, "store_time_range")
    incidents = analyze_incidents(store, window, registry=registry)
    signatures = signature_summary(store, window, incidents.evidence)
    return {
        **incidents.as_dict(),
        "window": window.as_dict(),
        "entries_in_window": int(volume["n"].sum()) if not volume.is_empty() else 0,
        "volume": volume,
        "top_errors": errors,
        "store_range": held,
        **signatures,
        # Sources the collectors could not read: the analysis is incomplete there, and says so.
        "data_gaps": run_named(store, "window_source_gaps", window.params()),
        # Metric threshold crossings (memory, CPU, Cloud SQL connections, VPC connector).
        "signals": run_named(store, "window_signals", window.params()),
    }
