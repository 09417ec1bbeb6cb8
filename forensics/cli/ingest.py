"""`forensics ingest`: load exported log files into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forensics.cli.common import DbOption, db_path
from forensics.console import console, err_console
from forensics.errors import EXIT_ATTENTION, EXIT_OK

MAX_SHOWN_REJECTIONS = 20


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files: JSON array, NDJSON, or .gz.")],
    db: DbOption = None,
) -> None:
    """Load exported log files (gcloud --format=json, sink NDJSON, .gz) into the store.

    The new entries are classified with the signature catalog as they are stored.
    Re-ingesting the same or overlapping exports adds no duplicates. Malformed entries are
    reported with their file and line; every valid entry is kept.

    Example:
        forensics ingest export.json sink/2025/09/16/*.json.gz
    """
    from forensics.ingest import ingest_files  # deferred: --help stays instant
    from forensics.pipeline import Sources, classify_pending
    from forensics.store import open_store

    with open_store(db_path(db)) as store:
        result = ingest_files(store, paths)
        classify_pending(store, Sources.load().catalog)  # classification happens on ingest
    for message in result.errors:
        err_console.print(f"error: {message}", style="red", markup=False, highlight=False)
    for note in result.notes[:MAX_SHOWN_REJECTIONS]:
        err_console.print(f"note: {note}", markup=False)
    for rejection in result.rejections[:MAX_SHOWN_REJECTIONS]:
        err_console.print(f"rejected: {rejection}", markup=False)
    hidden = len(result.rejections) - MAX_SHOWN_REJECTIONS
    if hidden > 0:
        err_console.print(f"... and {hidden} more rejected entries", markup=False)
    console.print(
        f"accepted {result.accepted:,} · duplicates {result.duplicates:,} · "
        f"rejected {result.rejected:,} · unreadable files {len(result.errors)} "
        f"→ {db_path(db)}",
        markup=False,
    )
    raise typer.Exit(EXIT_OK if result.clean else EXIT_ATTENTION)
