"""What an incident's attributed symptoms say: each cause named, counted and located.

Split from forensics.incidents.correlate (which groups symptoms into incidents and drafts them)
because these read the attribution rows (queries/store_symptom_causes.sql) alone, whatever the
grouping. Cost: O(n) over the n symptom rows; ordering O(g log g) over g (signature, cause)
groups.
"""

from __future__ import annotations

import polars as pl

from forensics.incidents.cause import error_key

__all__ = ["cause_lines", "named_error_causes", "symptom_attribution"]


def named_error_causes(symptoms: pl.DataFrame, texts: dict[str, str]) -> pl.DataFrame:
    """Name each error cause by its root exception's class (read across a split traceback),
    not by the first class name the SQL saw in the entry (a quoted ``except ImportError:``)."""
    if not texts or symptoms.is_empty():
        return symptoms
    keys = {i: error_key(t, "") for i, t in texts.items()}
    renamed = pl.col("cause_insert_id").replace_strict(keys, default="", return_dtype=pl.String)
    return symptoms.with_columns(
        pl.when((pl.col("cause_kind") == "error") & (renamed != ""))
        .then(renamed)
        .otherwise(pl.col("cause"))
        .alias("cause")
    )


def symptom_attribution(symptoms: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per symptom signature, how many of its lines each cause explains ("unattributed": none).

    One order whatever order group_by returns the groups in (report.json is the same bytes run
    after run): signatures by their largest count, then by name; a signature's causes by count,
    then by name, unattributed after named causes on a tie. O(n) to count, O(g log g) to order
    the g (signature, cause) groups.
    """
    counted = symptoms.group_by("signature", "cause").len()
    ordered = counted.sort(
        ["len", "signature", "cause"], descending=[True, False, False], nulls_last=True
    )
    attribution: dict[str, dict[str, int]] = {}
    for sig, cause, n in ordered.iter_rows():
        attribution.setdefault(sig, {})[cause or "unattributed"] = n
    return attribution


def cause_lines(symptoms: pl.DataFrame) -> pl.DataFrame:
    """The identity and kind of the cause line each attributed symptom follows."""
    return symptoms.filter(pl.col("cause_insert_id").is_not_null()).select(
        pl.col("cause_timestamp").alias("timestamp"),
        pl.col("cause_log_name").alias("log_name"),
        pl.col("cause_insert_id").alias("insert_id"),
        pl.col("cause_kind"),
    )
