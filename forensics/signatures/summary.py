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


def with_attributed_issues(counts: pl.DataFrame, evidence: pl.DataFrame) -> pl.DataFrame:
    """Each (hour, service, signature) row's issues, from the attribution of its lines.

    ``evidence`` has one row per (issue, line) (forensics.incidents.evidence.issue_evidence):
    a symptom such as exit 3 is listed under an issue only when its cause was one of that
    issue's signatures, never through a static signature -> issue link.
    """
    if counts.is_empty():
        return counts.with_columns(pl.lit([], pl.List(pl.String)).alias("issues"))
    keys = ["hour", "service", "signature"]
    if evidence.is_empty():
        per_row = pl.DataFrame(schema={**counts.select(keys).schema, "issues": pl.List(pl.String)})
    else:
        per_row = (
            evidence.with_columns(
                pl.col("timestamp").dt.truncate("1h").alias("hour"),
                pl.col("service").fill_null("(none)"),
            )
            .group_by(keys)
            .agg(pl.col("issue").unique().sort().alias("issues"))
            .with_columns(pl.col("hour").cast(counts.schema["hour"]))
        )
    joined = counts.join(per_row, on=keys, how="left", maintain_order="left")
    return joined.with_columns(pl.col("issues").fill_null(pl.lit([], pl.List(pl.String))))


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
            pl.col("issues").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        )
        .sort(["n", "signature"], descending=[True, False])
    )


def signature_summary(
    store: Store, window: Window, evidence: pl.DataFrame, catalog: Catalog | None = None
) -> dict[str, Any]:
    """``signatures`` (hour × service × signature counts with issues), ``unknown_templates``."""
    catalog = catalog or load_catalog()
    classify_store(store, catalog, window.since, window.until)
    counts = with_attributed_issues(
        run_named(store, "hour_service_signature_count", window.params()), evidence
    )
    templates = mine_templates(store, window.since, window.until, limit=TOP_TEMPLATES)
    return {
        "catalog_version": catalog.version,
        "signatures": counts,
        "unknown_templates": [t.as_dict() for t in templates],
    }
