"""`forensics demo`: write a realistic synthetic 24 h staging export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from forensics.console import console
from forensics.timeutil import parse_time


def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="File to write (.gz to compress).")
    ] = Path("demo-out/demo-export.jsonl"),
    entries: Annotated[int, typer.Option("--entries", "-n", help="How many entries.")] = 20_000,
    hours: Annotated[int, typer.Option("--hours", help="Window length.")] = 24,
    end: Annotated[
        str | None, typer.Option("--end", help="Window end (ISO 8601); default now.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1278,
    fmt: Annotated[
        str, typer.Option("--format", help="ndjson (log sink) or json (gcloud array).")
    ] = "ndjson",
) -> None:
    """Synthesize 24 h of staging logs with the incidents this tool explains, as an export file.

    Seeded and deterministic for the same --end; sized by --entries for benchmarks.

    Example:
        forensics demo --out demo.jsonl --entries 1000000
    """
    from forensics.demo import write_export  # deferred: only this command needs the generator

    formats: dict[str, Literal["ndjson", "json"]] = {"ndjson": "ndjson", "json": "json"}
    if fmt not in formats:
        raise typer.BadParameter("use ndjson or json", param_hint="--format")
    end_time = parse_time(end, "--end") if end else None
    out.parent.mkdir(parents=True, exist_ok=True)
    count = write_export(
        out, n_entries=entries, end=end_time, hours=hours, seed=seed, fmt=formats[fmt]
    )
    console.print(f"wrote {count:,} entries to {out}", markup=False)
