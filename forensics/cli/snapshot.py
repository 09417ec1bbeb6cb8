"""`forensics snapshot`: store one UTC day's signature counts, templates and issue statuses."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensics.cli.common import DbOption, IssuesFileOption, JsonOption, db_path, dump_json
from forensics.console import console
from forensics.timeutil import parse_day

if TYPE_CHECKING:
    from forensics.snapshots import State

__all__ = ["snapshot"]


def snapshot(
    day_text: Annotated[
        str,
        typer.Option("--date", help="UTC day: YYYY-MM-DD, 'today' or 'yesterday'."),
    ] = "yesterday",
    days: Annotated[
        int, typer.Option("--days", min=1, max=366, help="Also the N-1 days before --date.")
    ] = 1,
    list_only: Annotated[
        bool,
        typer.Option("--list", help="Take nothing: list stored days (and export all of them)."),
    ] = False,
    export_json: Annotated[
        Path | None,
        typer.Option("--export-json", help="Write the rows as one JSON array to this file."),
    ] = None,
    export_parquet: Annotated[
        Path | None, typer.Option("--export-parquet", help="Write the rows as Parquet.")
    ] = None,
    issues_file: IssuesFileOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Store a UTC day's counts per signature and service, unknown-error templates and issue
    statuses; re-running a day replaces it.

    The day's entries are classified first. The default day is yesterday, the last complete
    UTC day. Exports cover the days just taken (with --list: every stored day).

    Example:
        forensics snapshot --date yesterday
        forensics snapshot --date 2025-09-16 --days 7 --export-parquet snapshots.parquet
        forensics snapshot --list --export-json all-snapshots.json
    """
    from forensics.snapshots import export_snapshots, stored_days, take_snapshots
    from forensics.snapshots.state import Sources
    from forensics.snapshots.storage import describe_days
    from forensics.store import open_store

    last = parse_day(day_text)
    wanted = [last - timedelta(days=k) for k in range(days - 1, -1, -1)]
    taken: list[tuple[str, State]] = []
    exported: dict[str, int] = {}
    with open_store(db_path(db), existing=True) as store:
        if not list_only:
            states = take_snapshots(store, wanted, Sources.load(issues_file))
            taken = [(d.isoformat(), s) for d, s in zip(wanted, states, strict=True)]
        held = stored_days(store)
        scope = None if list_only else wanted
        for fmt, path in (("json", export_json), ("parquet", export_parquet)):
            if path is not None:
                exported[str(path)] = export_snapshots(store, path, fmt, scope)
    if as_json:
        print(dump_json(_as_json(taken, held, exported)))
        return
    for label, state in taken:
        console.print(_line(label, state), markup=False)
        for note in state.notes:
            console.print(f"  note: {note}", style="yellow", markup=False)
    console.print(f"stored days: {describe_days(held)}", markup=False)
    for target, rows in exported.items():
        console.print(f"exported {rows:,} rows → {target}", markup=False)


def _line(label: str, state: State) -> str:
    kinds = {k: sum(1 for i in state.items if i.kind == k) for k in ("signature", "template")}
    issues = len(state.of_kind("issue"))
    parts = [f"{state.entries:,} entries", f"{kinds['signature']} signature×service counts"]
    parts.append(
        f"{kinds['template']} templates" if "template" in state.recorded else "no templates"
    )
    parts.append(f"{issues} issue statuses" if "issue" in state.recorded else "no issue statuses")
    gaps = f", {len(state.gaps)} data gaps" if state.gaps else ""
    return f"snapshot {label}: " + ", ".join(parts) + gaps


def _as_json(
    taken: list[tuple[str, State]], held: list[date], exported: dict[str, int]
) -> dict[str, object]:
    return {
        "taken": [
            {
                "day": label,
                "entries": state.entries,
                "recorded": sorted(state.recorded),
                "items": len(state.items),
                "gaps": state.gaps,
                "notes": state.notes,
            }
            for label, state in taken
        ],
        "stored_days": held,
        "exported": exported,
    }
