"""What the signatures say about one window, as data for `forensics analyze` and reports.

``signature_summary(store, window)`` classifies the window first (one pass, replacing that
window's matches, so counts always reflect the current catalog), then returns the primary
signature counts per hour and service, each with the issues it is evidence for, and the top
templates of the errors no signature explains.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.mining import mine_templates
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["TOP_TEMPLATES", "signature_summary", "signature_totals"]

TOP_TEMPLATES = 10


def _with_issues(counts: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    issues = catalog.issues()
    return counts.with_columns(
        pl.Series(
            "issues", [issues.get(s, []) for s in counts["signature"]], dtype=pl.List(pl.String)
        )
    )


def signature_totals(counts: pl.DataFrame) -> pl.DataFrame:
    """One row per signature: total, services, first and last seen (from the hourly counts)."""
    if counts.is_empty():
        return counts
    return (
        counts.group_by("signature")
        .agg(
            pl.col("n").sum(),
            pl.col("service").unique().sort().alias("services"),
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
            pl.col("issues").first(),
        )
        .sort(["n", "signature"], descending=[True, False])
    )


def signature_summary(
    store: Store, window: Window, catalog: Catalog | None = None
) -> dict[str, Any]:
    """``signatures`` (hour × service × signature counts with issues), ``unknown_templates``."""
    catalog = catalog or load_catalog()
    classify_store(store, catalog, window.since, window.until)
    counts = _with_issues(
        run_named(store, "hour_service_signature_count", window.params()), catalog
    )
    templates = mine_templates(store, window.since, window.until, limit=TOP_TEMPLATES)
    return {
        "catalog_version": catalog.version,
        "signatures": counts,
        "unknown_templates": [t.as_dict() for t in templates],
    }
