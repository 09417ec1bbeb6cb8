"""The one rich Console the CLI prints through, and small table helpers.

Everything printed through ``console`` and ``err_console`` passes ``redact_secrets`` on its way
to the terminal (the last line of defence: log text reaches many messages); table cells and
CSV/JSON frames are redacted before they are folded or cut, which would split a secret.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from forensics.redact import redact_obj, redact_secrets, redact_text

if TYPE_CHECKING:  # polars is imported by the commands that build frames, not by --help
    import polars as pl

__all__ = ["console", "err_console", "frame_table", "render_frame"]


class _RedactingStream:
    """sys.stdout or sys.stderr (looked up at each write, as rich does), secrets hidden."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def _target(self) -> IO[str]:
        stream: IO[str] = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        return self._target.write(redact_secrets(text))

    def __getattr__(self, attr: str) -> Any:  # flush, isatty, fileno, encoding...
        return getattr(self._target, attr)


# A terminal uses its own width and $COLUMNS is honoured everywhere (rich reads it when the
# width is left open); a pipe without it gets lines wide enough for CI logs to keep them whole.
_WIDTH = None if os.isatty(1) or os.environ.get("COLUMNS", "").isdigit() else 160
console = Console(file=_RedactingStream("stdout"), width=_WIDTH, highlight=False)  # type: ignore[arg-type]
err_console = Console(file=_RedactingStream("stderr"), width=_WIDTH, highlight=False)  # type: ignore[arg-type]


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
    return redact_text(str(value))


def render_frame(df: pl.DataFrame, fmt: str, title: str | None = None) -> str | None:
    """Print a frame as a rich table, or return it as CSV / JSON text for the caller to write."""
    if fmt == "table":
        console.print(frame_table(df, title))
        return None
    if fmt == "csv":
        return _redacted(df).write_csv()
    if fmt == "json":
        return json.dumps(redact_obj(json.loads(df.write_json())), ensure_ascii=False)
    raise ValueError(f"unknown format {fmt!r}")


def _redacted(df: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell redacted (other types cannot hold a secret's text)."""
    import polars as pl  # a frame exists, so polars is loaded: this import is free

    return df.with_columns(
        pl.col(name).map_elements(redact_text, return_dtype=pl.String)
        for name, dtype in df.schema.items()
        if dtype == pl.String
    )


def rows_as_dicts(df: pl.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a frame as plain dicts, for JSON output."""
    return (df.select(columns) if columns else df).to_dicts()
