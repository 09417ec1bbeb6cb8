"""`forensics incidents`: the window's incidents with their causal chains, causes and evidence."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.rule import Rule

from forensics.cli.analyze import HoursOption, UntilOption
from forensics.cli.common import DbOption, IssuesFileOption, JsonOption, dump_json
from forensics.cli.issues import analysis_for
from forensics.cli.render_incidents import render_incident_detail, render_incidents
from forensics.console import console

__all__ = ["incidents"]


def incidents(
    issue: Annotated[
        str | None,
        typer.Option("--issue", "-i", help="Only incidents of this issue, e.g. '#1278'."),
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only incidents of this service.")
    ] = None,
    hours: HoursOption = 24,
    until: UntilOption = None,
    issues_file: IssuesFileOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Incidents in the window: when, which service, the chain checked per instance, the cause.

    Matches of one service closer than the incident gap (10 min) are one incident; every exit 3
    and 503 is attributed to the root of the failure episode before it on the same instance
    (else revision).

    Example:
        forensics incidents --hours 24
        forensics incidents --issue '#1278' --json
    """
    result = analysis_for(hours, until, issues_file, db)
    shown = [
        i
        for i in result["incidents"]
        if (issue is None or issue in i["issues"]) and (service is None or i["service"] == service)
    ]
    if as_json:
        print(dump_json({"window": result["window"], "incidents": shown}))
        return
    console.print(
        Rule(f"forensics incidents: {result['window']['since']} → {result['window']['until']}")
    )
    render_incidents(shown)
    for item in shown:
        render_incident_detail(item)
