"""`forensics issues`: each tracked issue's status from evidence, next to its claimed status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.rule import Rule

from forensics.cli.analyze import HoursOption, UntilOption
from forensics.cli.common import DbOption, IssuesFileOption, JsonOption, db_path, dump_json
from forensics.cli.render_incidents import render_headline, render_issue_detail, render_issues
from forensics.cli.report import note_classification
from forensics.console import console
from forensics.errors import EXIT_ATTENTION, InputError
from forensics.timeutil import window_ending

__all__ = ["analysis_for", "issues"]


def analysis_for(
    hours: float, until: str | None, issues_file: Path | None, db: Path | None
) -> dict[str, Any]:
    """The analysis model of the window the options name (read-only), as JSON-ready data."""
    from forensics.pipeline import Sources, build_model, open_for_reading  # deferred: --help
    from forensics.store import clamp_window

    window = window_ending(hours, until)
    sources = Sources.load(issues_file)
    with open_for_reading(db_path(db)) as store:
        model = build_model(store, clamp_window(store, window), sources)
    note_classification(model.classification)
    return model.analysis()


def issues(
    issue: Annotated[
        list[str] | None,
        typer.Option("--issue", "-i", help="Only this issue (repeatable), e.g. '#1278'."),
    ] = None,
    hours: HoursOption = 24,
    until: UntilOption = None,
    issues_file: IssuesFileOption = None,
    fail_on_contradiction: Annotated[
        bool,
        typer.Option(
            "--fail-on-contradiction",
            help="Exit 1 when a claim is contradicted by the logs (for scripts).",
        ),
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Status of every tracked issue computed from the logs, contradicted claims first.

    ACTIVE: evidence in the window. RESOLVED: none since the fix, with enough traffic after it.
    REGRESSED: evidence after the fix. QUIET: none, too little traffic to tell. NO_DATA: its
    sources were not collected. Each status comes with the sentence that justifies it.

    Example:
        forensics issues --hours 24
        forensics issues --issue '#1278' --until 2025-09-17T00:00:00Z --json
    """
    result = analysis_for(hours, until, issues_file, db)
    shown = result["issues"]
    if issue:
        known = {i["id"] for i in shown}
        unknown = [i for i in issue if i not in known]
        if unknown:
            raise InputError(
                f"--issue: no tracked issue {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        shown = [i for i in shown if i["id"] in issue]
    if as_json:
        print(dump_json({"window": result["window"], "issues": shown}))
    else:
        console.print(
            Rule(f"forensics issues: {result['window']['since']} → {result['window']['until']}")
        )
        render_headline(shown)
        render_issues(shown)
        for item in shown:
            render_issue_detail(item)
    if fail_on_contradiction and any(i["contradiction"] for i in shown):
        raise typer.Exit(EXIT_ATTENTION)
