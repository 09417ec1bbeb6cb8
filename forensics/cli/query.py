"""`forensics query`: run SQL or a named query against the store."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from forensics.cli.common import DbOption, db_path
from forensics.console import console, render_frame
from forensics.errors import InputError
from forensics.timeutil import parse_time

_NAME = re.compile(r"^[a-z0-9_]+$")


def _parse_params(pairs: list[str]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"--param {pair!r}: expected key=value")
        if key in ("since", "until"):
            params[key] = parse_time(value, f"--param {key}")
        elif value.lstrip("-").isdigit():
            params[key] = int(value)
        else:
            params[key] = value
    return params


def query(
    sql_or_name: Annotated[
        str | None, typer.Argument(help="SQL text, or the name of a query in queries/.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="key=value for a named query.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    list_: Annotated[bool, typer.Option("--list", help="List the named queries.")] = False,
    db: DbOption = None,
) -> None:
    """Run SQL, or a named query from queries/, against the store (read-only).

    The `entries` view holds one row per log entry; `metric_points` and `ingest_runs` too.
    The SQL runs sandboxed: it can read the store and nothing else (no file access, no
    extensions, no settings); secrets in the output are redacted.

    Example:
        forensics query "SELECT severity, count(*) FROM entries GROUP BY 1"
        forensics query window_error_messages_top -p since=2025-09-16 -p until=2025-09-17 -p limit=5
    """
    from forensics.sql import list_queries, run_named  # deferred: --help stays instant
    from forensics.store import open_store

    if fmt not in ("table", "csv", "json"):
        raise InputError(f"--format {fmt!r}: use table, csv or json")
    if list_ or sql_or_name is None:
        for q in list_queries():
            console.print(f"[bold]{q.name}[/bold]  {q.description}")
            if q.params:
                console.print(f"    params: {', '.join(q.params)}", markup=False)
        return
    with open_store(db_path(db), sandbox=True) as store:
        if _NAME.match(sql_or_name):
            frame = run_named(store, sql_or_name, _parse_params(param or []))
        else:
            frame = store.query(sql_or_name)
    text = render_frame(frame, fmt)
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
