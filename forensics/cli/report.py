"""`forensics report`: write the window's report as Markdown, self-contained HTML and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forensics.cli.common import DbOption, IssuesFileOption, db_path
from forensics.console import console, err_console
from forensics.errors import InputError
from forensics.timeutil import utcnow, window_ending

if TYPE_CHECKING:
    from forensics.analysis import AnalysisModel
    from forensics.pipeline import Classification

__all__ = [
    "FormatOption",
    "OutOption",
    "note_classification",
    "parse_formats",
    "report",
    "write_model_reports",
]

OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Directory to write report.md / report.html / report.json."),
]
FormatOption = Annotated[
    str,
    typer.Option("--format", "-f", help="Comma-separated formats: md, html, json."),
]


def parse_formats(text: str) -> list[str]:
    """'md,html' -> ['md', 'html']; InputError naming the unknown ones."""
    from forensics.report import FORMATS

    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise InputError(
            f"--format: {', '.join(unknown) or 'nothing'} not known; use any of "
            f"{', '.join(FORMATS)} (e.g. --format md,html,json)"
        )
    return chosen


def write_model_reports(
    model: AnalysisModel,
    out: Path,
    formats: list[str],
    *,
    redact_emails: bool = False,
    issue: str | None = None,
) -> list[Path]:
    """Render the model's report context and write the chosen formats into ``out``."""
    from forensics.report import write_reports

    context = model.report_context(now=utcnow(), redact_emails=redact_emails)
    return write_reports(context, out, formats, issue=issue)


def report(
    out: OutOption = None,
    fmt: FormatOption = "md,html,json",
    hours: Annotated[float, typer.Option("--hours", help="Window length in hours.")] = 24,
    until: Annotated[
        str | None, typer.Option("--until", help="Window end (ISO 8601, UTC); default now.")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="GCP project for Logs Explorer links (default: the logs')."),
    ] = None,
    issue: Annotated[
        str | None,
        typer.Option("--issue", help="Markdown for one issue only, ready to paste as a comment."),
    ] = None,
    redact_emails: Annotated[
        bool, typer.Option("--redact-emails", help="Also hide e-mail addresses.")
    ] = False,
    issues_file: IssuesFileOption = None,
    db: DbOption = None,
) -> None:
    """Write the window's report: Markdown for issue threads, self-contained HTML, and JSON.

    Every figure cites the entry (insert_id, timestamp, revision) or the named query it came
    from; secrets in log text are redacted in every format.

    Example:
        forensics report --out reports-out --hours 24
        forensics report --out out --format md --issue '#1278' --until 2025-09-17T00:00:00Z
    """
    from forensics.pipeline import Sources, build_model, open_for_reading
    from forensics.store import clamp_window  # deferred: --help

    if out is None:
        raise InputError("--out DIR is required: the directory to write the report files into")
    formats = parse_formats(fmt)
    window = window_ending(hours, until)
    sources = Sources.load(issues_file)
    with open_for_reading(db_path(db)) as store:
        window = clamp_window(store, window)
        model = build_model(store, window, sources, report=True, project=project)
    note_classification(model.classification)
    paths = write_model_reports(model, out, formats, redact_emails=redact_emails, issue=issue)
    for path in paths:
        console.print(f"wrote {path}", markup=False, highlight=False)
    _warn_if_too_long_for_a_comment(paths, issue)


def note_classification(classification: Classification) -> None:
    """One line (stderr) when the answer's classification was made in memory, or per-run
    tables were computed from the entries for it, with the command that saves them."""
    notes = [n for n in (classification.note(), classification.tables_note()) if n]
    if notes:
        err_console.print(
            f"note: {'; '.join(notes)}",
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,  # one line, whatever the terminal's width
        )


GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in one issue comment


def _warn_if_too_long_for_a_comment(paths: list[Path], issue: str | None) -> None:
    for path in paths:
        if path.suffix == ".md":
            size = len(path.read_text(encoding="utf-8"))
            if size > GITHUB_COMMENT_LIMIT:
                hint = "" if issue else "; paste one issue at a time with --issue ID"
                console.print(
                    f"note: {path} has {size:,} characters, more than a GitHub comment holds "
                    f"({GITHUB_COMMENT_LIMIT:,}){hint}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
