"""The `forensics` command line: every command is registered here, in one visible list."""

from __future__ import annotations

import typer

from forensics import __version__
from forensics.cli import (
    analyze,
    classify,
    collect,
    demo,
    diff,
    emulator,
    incidents,
    ingest,
    issues,
    patterns,
    query,
    report,
    snapshot,
    watch,
)
from forensics.cli.group import ForensicsGroup

__all__ = ["app", "main"]

app = typer.Typer(
    name="forensics",
    cls=ForensicsGroup,
    help="GCP log and incident forensics: what failed, when, why, and which issue it belongs to.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command()(analyze.analyze)
app.command()(collect.collect)
app.command()(ingest.ingest)
app.command()(query.query)
app.command()(demo.demo)
app.command()(incidents.incidents)
app.command()(issues.issues)
app.command()(classify.classify)
app.add_typer(patterns.app, name="patterns")
app.command()(report.report)
app.command()(snapshot.snapshot)
app.command()(diff.diff)
app.command()(watch.watch)
app.add_typer(emulator.app, name="emulator")


def _version(value: bool) -> None:
    if value:
        print(f"forensics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """GCP log and incident forensics for Cloud Run on Cloud SQL."""


def main() -> None:
    """Console-script entry point."""
    app()
