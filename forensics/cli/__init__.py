"""The `forensics` command line: every command is registered here, in one visible list."""

from __future__ import annotations

import sys

import typer

from forensics import __version__
from forensics.cli import analyze, collect, demo, emulator, ingest, query
from forensics.console import err_console
from forensics.errors import EXIT_USAGE, ForensicsError

__all__ = ["app", "main"]

app = typer.Typer(
    name="forensics",
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
    """Entry point: run the app, turning library errors into one clear line and an exit code."""
    try:
        app(standalone_mode=False)
    except ForensicsError as err:
        err_console.print(f"error: {err}", markup=False)
        sys.exit(err.exit_code)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        err_console.print("aborted", markup=False)
        sys.exit(130)
    except Exception as err:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(EXIT_USAGE)
        raise
