"""Render the signature part of `forensics analyze`: counts with issues, unexplained templates."""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.console import console, frame_table
from forensics.signatures.summary import signature_totals

__all__ = ["render_signatures"]


def _joined(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return df.with_columns(pl.col(c).list.join(", ") for c in columns)


def render_signatures(result: dict[str, Any]) -> None:
    """Print signature totals, counts per hour and service, and the top unexplained templates."""
    counts: pl.DataFrame = result["signatures"]
    if counts.is_empty():
        console.print("No known failure signature matched in this window.")
    else:
        totals = _joined(signature_totals(counts), "services", "issues")
        console.print(
            frame_table(
                totals.select("signature", "issues", "n", "services", "first_seen", "last_seen"),
                f"Failure signatures (catalog {result['catalog_version']})",
            )
        )
        console.print(
            frame_table(
                _joined(counts, "issues").select("hour", "service", "signature", "n", "issues"),
                "Signatures per hour and service",
            )
        )
    templates = result["unknown_templates"]
    if not templates:
        console.print("Every ERROR entry and 5xx response in the window matched a signature.")
        return
    rows = pl.DataFrame(
        {
            "id": [t["id"] for t in templates],
            "n": [t["count"] for t in templates],
            "services": [", ".join(t["services"]) for t in templates],
            "last_seen": [t["last_seen"] for t in templates],
            "template": [t["template"][:140] for t in templates],
        }
    )
    console.print(
        frame_table(
            rows,
            "Unexplained errors: no signature matched "
            "(make one: forensics patterns new --from-template ID)",
        )
    )
