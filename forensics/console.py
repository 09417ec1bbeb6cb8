"""The one rich Console the CLI prints through, and small table helpers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

__all__ = ["console", "err_console", "frame_table", "render_frame"]

# Wide enough that CI logs and pipes keep whole lines; a terminal still uses its own width.
_WIDTH = None if os.isatty(1) else 160
console = Console(width=_WIDTH, highlight=False)
err_console = Console(stderr=True, width=_WIDTH, highlight=False)


def frame_table(df: pl.DataFrame, title: str | None = None, max_rows: int = 200) -> Table:
    """Render a polars DataFrame as a rich Table (values shown as text, nulls blank)."""
    table = Table(title=title, show_lines=False, title_justify="left")
    for name in df.columns:
        numeric = df.schema[name].is_numeric()
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in df.head(max_rows).iter_rows():
        table.add_row(*(_cell(v) for v in row))
    if df.height > max_rows:
        table.caption = f"{df.height - max_rows} more rows not shown"
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_frame(df: pl.DataFrame, fmt: str, title: str | None = None) -> str | None:
    """Print a frame as a rich table, or return it as CSV / JSON text for the caller to write."""
    if fmt == "table":
        console.print(frame_table(df, title))
        return None
    if fmt == "csv":
        return df.write_csv()
    if fmt == "json":
        return df.write_json()
    raise ValueError(f"unknown format {fmt!r}")


def rows_as_dicts(df: pl.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a frame as plain dicts, for JSON output."""
    return (df.select(columns) if columns else df).to_dicts()
