"""Signature counts with the issues their lines were attributed to, and per-signature totals."""

from __future__ import annotations

import polars as pl

__all__ = ["signature_totals", "with_attributed_issues"]


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
