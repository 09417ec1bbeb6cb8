"""Render a report context as Markdown, self-contained HTML, or JSON, and write the files.

Two jinja2 environments over reports/:
  - HTML: ``autoescape=True`` for every template, so every value (log text included) is
    escaped; the templates never use ``|safe`` and the chart is drawn by a template too.
  - Markdown: no HTML escaping, but every ``{{ value }}`` passes through ``finalize``, which
    escapes Markdown-active characters unless a filter already produced safe Markdown
    (``md_code``, ``md_block``, ``md_link``); so forgetting a filter can only over-escape.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from forensics.errors import InputError
from forensics.paths import reports_dir
from forensics.report import mdescape
from forensics.report.chart import sparkline
from forensics.report.svg import layout, signature_colors
from forensics.textclip import clip

__all__ = ["FORMATS", "render", "render_html", "render_json", "render_markdown", "write_reports"]

FORMATS = ("md", "html", "json")
FILE_NAMES = {"md": "report.md", "html": "report.html", "json": "report.json"}
_BLANK_RUNS = re.compile(r"\n{3,}")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class Md(str):
    """Text that is already safe Markdown (produced by a filter below)."""


# Times, numbers and words are inert in Markdown wherever they stand: shown as they are.
# ("www." would still be autolinked by GitHub, so it is escaped like everything else.)
_PLAIN = re.compile(r"(?i)(?!.*www\.)(?:[0-9a-z][0-9a-z :.,%+\u2014-]*)?")


def _md_finalize(value: Any) -> Any:
    """Every printed value: safe Markdown stays, plain text stays, anything else is escaped."""
    if isinstance(value, Md) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    text = "" if value is None else str(value)
    return text if _PLAIN.fullmatch(text) else mdescape.md_text(text)


def md_code(value: Any, cell: bool = True) -> Md:
    return Md(mdescape.md_code(value, cell))


def md_block(lines: Iterable[Any], info: str = "text") -> Md:
    return Md(mdescape.md_block(lines, info))


def md_link(text: Any, url: str | None) -> Md:
    """``[text](url)`` for URLs this tool built or checked; plain escaped text otherwise."""
    label = mdescape.md_text(text)
    if not url:
        return Md(label)
    # Percent-encode anything that could end the destination early; links are ours (https).
    return Md(f"[{label}](<{quote(url, safe=':/?&=;%#@+,.~-_!*()')}>)")


def md_evidence(lines: Iterable[dict[str, Any]]) -> Md:
    """Evidence lines as one fenced block: time, insert_id, revision, signature, message."""
    rows = [
        "  ".join(
            (
                ts(line.get("timestamp")),
                str(line.get("insert_id") or "-"),
                str(line.get("revision") or "-"),
                str(line.get("signature") or "-"),
                clip(line.get("message"), 300),
            )
        )
        for line in lines
    ]
    return md_block(rows)


def md_macro(value: Any) -> Md:
    """Output of one of the Markdown macros, which build their text from escaped parts only.

    Used solely as ``{{ m.macro(...)|md_macro }}`` (a test checks the templates).
    """
    return Md(str(value))


def ts(value: Any, seconds: bool = True) -> str:
    """ISO time as '2025-09-16 14:05:23Z' (or without seconds)."""
    if not value:
        return "—"
    text = str(value).replace("T", " ")
    return (text[:19] if seconds else text[:16]) + "Z"


def clock(value: Any) -> str:
    return str(value)[11:19] if value else "—"


def num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def pct(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f}%"


def short_id(value: Any, keep: int = 12) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= keep + 1 else text[:keep] + "…"


def status_class(status: Any) -> str:
    return "status-" + "".join(
        c for c in str(status or "unknown").lower() if c.isalnum() or c == "_"
    )


_COMMON_FILTERS = {
    "ts": ts,
    "clock": clock,
    "clip": clip,
    "num": num,
    "pct": pct,
    "short_id": short_id,
    "status_class": status_class,
}


def _env(templates: Path | None, **options: Any) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates or reports_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )


def html_env(templates: Path | None = None) -> jinja2.Environment:
    """The HTML environment: autoescape on for every template it loads."""
    env = _env(templates, autoescape=True)
    env.filters.update(_COMMON_FILTERS)
    return env


def markdown_env(templates: Path | None = None) -> jinja2.Environment:
    """The Markdown environment: Markdown escaping by default through ``finalize``."""
    env = _env(templates, autoescape=False, keep_trailing_newline=True, finalize=_md_finalize)
    env.filters.update(_COMMON_FILTERS)  # their text is escaped on output by finalize
    env.filters.update(
        {
            "md_code": md_code,
            "md_block": md_block,
            "md_link": md_link,
            "md_evidence": md_evidence,
            "md_macro": md_macro,
        }
    )
    return env


def _chart(context: dict[str, Any]) -> Any:
    order = list(context["catalog"].get("precedence") or [])
    order += sorted({r["signature"] for r in context["chart"]["counts"]} - set(order))
    return layout(
        context["chart"],
        deploys=context["deploys"],
        incidents=context["incidents"],
        colours=signature_colors(order),
    )


def render_markdown(
    context: dict[str, Any], issue: str | None = None, templates: Path | None = None
) -> str:
    """The Markdown report; with ``issue``, only that issue's section (an issue comment)."""
    if issue is not None and not any(i.get("id") == issue for i in context["issues"]):
        known = ", ".join(str(i.get("id")) for i in context["issues"]) or "none"
        raise InputError(f"--issue: no issue {issue!r} in this report (known: {known})")
    template = markdown_env(templates).get_template("report.md.j2")
    sparks = {
        lane["service"]: sparkline(context["chart"], lane["service"])
        for lane in context["chart"]["lanes"]
    }
    text = template.render(r=context, only_issue=issue, sparks=sparks)
    # Templates leave blank lines generously (a block tag eats its line's newline); one is enough.
    return _BLANK_RUNS.sub("\n\n", text).lstrip("\n")


def render_html(context: dict[str, Any], templates: Path | None = None) -> str:
    """The self-contained HTML report (inline CSS and SVG, a strict CSP, nothing fetched)."""
    template = html_env(templates).get_template("report.html.j2")
    return template.render(r=context, chart=_chart(context), csp=CSP)


def render_json(context: dict[str, Any]) -> str:
    """The report context as JSON for tools (the same content as the other formats)."""
    return json.dumps(context, indent=2, ensure_ascii=False) + "\n"


def render(context: dict[str, Any], fmt: str, issue: str | None = None) -> str:
    """Render one format: ``md``, ``html`` or ``json``."""
    if fmt == "md":
        return render_markdown(context, issue)
    if fmt == "html":
        return render_html(context)
    if fmt == "json":
        return render_json(context)
    raise InputError(f"--format: unknown format {fmt!r} (use {', '.join(FORMATS)})")


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, with the mode the umask gives.

    mkstemp would create the file 0600; a report is meant to be read by others, so the
    temporary file is opened like any new file (0666 less the umask) under a unique name.
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(
    context: dict[str, Any], out_dir: Path, formats: Iterable[str], issue: str | None = None
) -> list[Path]:
    """Write report.md / report.html / report.json into ``out_dir``; return the paths."""
    chosen = list(dict.fromkeys(formats))
    rendered = {fmt: render(context, fmt, issue) for fmt in chosen}  # all or nothing
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, text in rendered.items():
        path = out_dir / FILE_NAMES[fmt]
        _write_atomic(path, text)
        paths.append(path)
    return paths
