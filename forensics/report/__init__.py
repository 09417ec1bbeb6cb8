"""Reports for incident reviewers: Markdown for issue threads, self-contained HTML, and JSON.

Public API:
  - ``build_report(store, window, *, now, version=__version__, project=None,
    redact_emails=False, catalog=None, analysis=None) -> dict``: the report context (JSON-ready,
    redacted), shared by every format.
  - ``render(context, fmt, issue=None) -> str`` for ``fmt`` in ``FORMATS`` (md, html, json);
    ``render_markdown(context, issue=None)``, ``render_html(context)``, ``render_json(context)``.
  - ``write_reports(context, out_dir, formats, issue=None) -> list[Path]``: report.md,
    report.html, report.json.
"""

from forensics.report.model import REPORT_SCHEMA, build_report
from forensics.report.render import (
    FORMATS,
    render,
    render_html,
    render_json,
    render_markdown,
    write_reports,
)

__all__ = [
    "FORMATS",
    "REPORT_SCHEMA",
    "build_report",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "write_reports",
]
