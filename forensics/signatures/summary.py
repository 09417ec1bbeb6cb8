"""Signature counts with the issues their lines were attributed to, and per-signature totals."""

from __future__ import annotations

import polars as pl

__all__ = ["service_signature_counts", "signature_totals", "with_attributed_issues"]


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
    """One row per signature from the hourly counts (``hour_service_signature_count``): total,
    services, first and last seen, issues, and, when the rows carry them, the first and last
    entries (insert_id, revision), how many revisions and instances, and the catalog versions.
    The order: most entries first."""
    if counts.is_empty():
        return counts
    columns = set(counts.columns)
    aggs = [
        pl.col("n").sum(),
        pl.col("service").unique().sort().alias("services"),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
    ]
    if "issues" in columns:
        aggs.append(
            pl.col("issues").list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
        )
    if "first_insert_id" in columns:
        first, last = ["first_seen", "first_insert_id"], ["last_seen", "last_insert_id"]
        aggs += [
            pl.col("first_insert_id").sort_by(first).first(),
            pl.col("first_revision").sort_by(first).first(),
            pl.col("last_insert_id").sort_by(last).last(),
            pl.col("last_revision").sort_by(last).last(),
            pl.col("revisions")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .n_unique()
            .alias("revisions"),
            pl.col("instances")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .n_unique()
            .alias("instances"),
            pl.col("catalog_versions")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
        ]
    return counts.group_by("signature").agg(aggs).sort(["n", "signature"], descending=[True, False])


def service_signature_counts(counts: pl.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(signature, service) -> (entries in the window, entries at or after ``$recent_since``)
    from the hourly counts: what watch's spike check compares."""
    if counts.is_empty():
        return {}
    totals = counts.group_by("signature", "service").agg(pl.col("n", "n_recent").sum())
    return {
        (str(r["signature"]), str(r["service"])): (int(r["n"]), int(r["n_recent"]))
        for r in totals.iter_rows(named=True)
    }
