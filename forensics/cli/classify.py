"""`forensics classify`: name the failure signature of every entry in export files, no store."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensics.cli.patterns import PatternsOption
from forensics.console import console, err_console, frame_table
from forensics.errors import InputError
from forensics.redact import redact_obj

if TYPE_CHECKING:
    from forensics.signatures import EntryResult

FORMATS = ("jsonl", "table")
MAX_TABLE_ROWS = 200


def _write_jsonl(results: list[EntryResult]) -> None:
    out = sys.stdout
    for result in results:
        out.write(json.dumps(redact_obj(result.as_json()), ensure_ascii=False) + "\n")
    out.flush()


def _render_table(results: list[EntryResult]) -> None:
    import polars as pl

    shown = [r for r in results if r.signature or r.error]
    rows = pl.DataFrame(
        {
            "index": [r.index for r in shown],
            "timestamp": [r.as_json()["timestamp"] for r in shown],
            "service": [r.service for r in shown],
            "signature": [r.signature or "" for r in shown],
            "issues": [", ".join(r.issues) for r in shown],
            "symptom_of": [", ".join(r.symptom_of) for r in shown],
            "message": [(r.error or r.message or "").replace("\n", " ⏎ ")[:120] for r in shown],
        },
        schema_overrides={"service": pl.String, "timestamp": pl.String},
    )
    console.print(frame_table(rows, "Entries with a signature (or an error)", MAX_TABLE_ROWS))
    counts = Counter(r.signature or "(none)" for r in results if not r.error)
    summary = pl.DataFrame({"signature": list(counts), "entries": list(counts.values())}).sort(
        "entries", descending=True
    )
    console.print(frame_table(summary, f"{len(results):,} entries"))


def classify(
    paths: Annotated[list[Path], typer.Argument(help="Export files: JSON array, NDJSON, or .gz.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="jsonl (one object per entry) or table.")
    ] = "jsonl",
    patterns: PatternsOption = None,
) -> None:
    """Print each entry's primary failure signature and issues, in input order.

    One JSON object per input entry: {"index", "insert_id", "timestamp", "signature" (or
    null), "issues" (direct evidence of), "symptom_of", "template"}; "template" is, for an
    error no signature claims (ERROR or worse, a 5xx request, or an unlevelled line that reads
    as an error), the id of its unknown-error template as `forensics analyze` lists it, else
    null. An entry that is not a valid LogEntry gets "error" instead of an insert_id. Exit 0
    when the files were read (even if some entries were malformed), 2 for usage errors or a
    file that cannot be read.

    Example:
        forensics classify export.json --format jsonl | jq -c 'select(.signature)'
        forensics classify export.json | jq -r 'select(.template) | .template' | sort | uniq -c
        forensics classify sink/*.json.gz --format table
    """
    from forensics.signatures import classify_files, load_catalog  # deferred: instant --help

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: use {' or '.join(FORMATS)}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"{missing[0]}: no such file")
    run = classify_files(paths, load_catalog(patterns))
    if fmt == "jsonl":
        _write_jsonl(run.results)
    else:
        _render_table(run.results)
    if run.errors:
        for message in run.errors:
            err_console.print(f"error: {message}", markup=False)
        raise typer.Exit(InputError.exit_code)
