"""The `forensics` command line: every command is registered here, in one visible list.

Each command's module is imported only when that command is run or asked for its help
(forensics/cli/lazy.py), so `forensics --help` and `forensics X --help` stay instant. A summary
is the first paragraph of the command's own help; tests/test_cli_lazy.py checks they agree.
"""

from __future__ import annotations

import gc

import typer

from forensics import __version__
from forensics.cli.group import ForensicsTyper
from forensics.cli.lazy import Lazy, lazy_group

__all__ = ["COMMANDS", "app", "main"]

# In the order `forensics --help` lists them.
COMMANDS: dict[str, Lazy] = {
    "analyze": Lazy(
        "forensics.cli.analyze",
        "analyze",
        "Analyse the window: issue statuses and incidents with their causes, then volume and "
        "errors.",
    ),
    "collect": Lazy(
        "forensics.cli.collect",
        "collect",
        "Pull a project's logs and metrics for the window into the store, within the API quotas.",
    ),
    "ingest": Lazy(
        "forensics.cli.ingest",
        "ingest",
        "Load exported log files (gcloud --format=json, sink NDJSON, .gz) into the store.",
    ),
    "query": Lazy(
        "forensics.cli.query",
        "query",
        "Run SQL, or a named query from queries/, against the store (read-only).",
    ),
    "demo": Lazy(
        "forensics.cli.demo",
        "demo",
        "Synthesize 24 h of staging logs with the incidents this tool explains, as an export file.",
    ),
    "incidents": Lazy(
        "forensics.cli.incidents",
        "incidents",
        "Incidents in the window: when, which service, the chain checked per instance, the cause.",
    ),
    "issues": Lazy(
        "forensics.cli.issues",
        "issues",
        "Status of every tracked issue computed from the logs, contradicted claims first.",
    ),
    "classify": Lazy(
        "forensics.cli.classify",
        "classify",
        "Print each entry's primary failure signature and issues, in input order.",
    ),
    "report": Lazy(
        "forensics.cli.report",
        "report",
        "Write the window's report: Markdown for issue threads, self-contained HTML, and JSON.",
    ),
    "snapshot": Lazy(
        "forensics.cli.snapshot",
        "snapshot",
        "Store a UTC day's counts per signature and service, unknown-error templates and issue "
        "statuses; re-running a day replaces it.",
    ),
    "diff": Lazy(
        "forensics.cli.diff",
        "diff",
        "Compare a day's snapshot with a baseline: new and gone signatures, spikes, new unknown "
        "errors, issue status changes (regressions and contradicted claims first).",
    ),
    "watch": Lazy(
        "forensics.cli.watch",
        "watch",
        "Watch the store: every interval analyse the last --lookback, compare with the previous "
        "run, print the changes and optionally POST them to a webhook.",
    ),
    "patterns": Lazy(
        "forensics.cli.patterns",
        "app",
        "Look after the failure-signature catalog (patterns/<area>/<slug>.yml).",
    ),
    "emulator": Lazy(
        "forensics.cli.emulator",
        "app",
        "A local Cloud Logging (HTTP) and Monitoring (gRPC) emulator for tests and the demo.",
    ),
}

app = ForensicsTyper(
    name="forensics",
    cls=lazy_group(COMMANDS),
    help="GCP log and incident forensics: what failed, when, why, and which issue it belongs to.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


# One command is one short batch that builds its objects (a wide fleet's: tens of thousands of
# deploy markers, their dicts, the kept model's pickle) and keeps nearly all of them to the end:
# the cyclic collector's default (a young collection every 700 allocations, a full one every
# 70,000) walked them again and again for no garbage (~0.45 CPU s of a wide analyze). A larger
# first generation, as mypy does for the same reason; cycles are still collected.
_GC_THRESHOLDS = (50_000, 20, 100)


def main() -> None:
    """Console-script entry point."""
    gc.set_threshold(*_GC_THRESHOLDS)
    app()
