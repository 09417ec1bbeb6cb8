"""Render a DiffResult for people: Markdown (reports, tickets), rich tables, one-line findings.

Log text is untrusted: Markdown cells are escaped (no table breaks, no HTML, no links), rich
cells are Text objects (never parsed as markup), and Slack text escapes its control characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from forensics.redact import redact_text
from forensics.snapshots.diff import DiffResult
from forensics.textclip import clip

__all__ = ["finding_lines", "headline", "markdown", "print_rich"]

# (title, attribute, columns as (header, getter))
_Getter = Any
MAX_ROWS = 20  # rows per section in tables; JSON always has every row
MAX_LINES = 10  # unknown-error templates in the one-line findings (watch output, webhook)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value and abs(value) < 0.001:
            return f"{value:.1e}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    return redact_text(str(value))  # before any cell or line cuts it (a cut secret leaks)


def _template_text(details: dict[str, Any], key: str) -> str:
    return redact_text(str(details.get("template") or details.get("text") or key))


# the columns every "new" row shares: how many, since when, and one entry to open
_SEEN: tuple[tuple[str, _Getter], ...] = (
    ("entries", lambda n: n.count),
    ("first seen", lambda n: n.details.get("first_seen")),
    ("example insert_id", lambda n: n.details.get("example_insert_id")),
)

SECTIONS: tuple[tuple[str, str, tuple[tuple[str, _Getter], ...]], ...] = (
    (
        "Issue status changes",
        "issue_changes",
        (
            ("issue", lambda c: c.id),
            ("status", lambda c: c.status),
            ("was", lambda c: c.previous or "—"),
            ("claimed", lambda c: c.claimed_status),
            ("contradicted", lambda c: "yes" if c.contradiction else ""),
            ("why", lambda c: c.basis),
        ),
    ),
    (
        "New signatures",
        "new_signatures",
        (
            ("signature", lambda n: n.key),
            ("service", lambda n: n.service),
            *_SEEN,
        ),
    ),
    (
        "Spikes",
        "spikes",
        (
            ("signature", lambda s: s.key),
            ("service", lambda s: s.service),
            ("entries", lambda s: s.count),
            ("baseline/day", lambda s: s.baseline),
            ("ratio", lambda s: s.ratio),
            ("p (Poisson)", lambda s: s.p_value),
        ),
    ),
    (
        "New unknown-error templates",
        "new_templates",
        (
            ("template", lambda n: _template_text(n.details, n.key)),
            ("services", lambda n: n.details.get("services") or n.service),
            *_SEEN,
        ),
    ),
    (
        "Gone (in the baseline, absent now)",
        "gone_signatures",
        (
            ("signature", lambda g: g.key),
            ("service", lambda g: g.service),
            ("baseline/day", lambda g: g.baseline),
        ),
    ),
)


def headline(result: DiffResult) -> str:
    """'needs attention: 2 new signatures, 1 spike' or 'nothing needs attention'."""
    parts = [
        f"{n} {label}"
        for n, label in (
            (sum(1 for c in result.issue_changes if c.status == "REGRESSED"), "regressed issue(s)"),
            (sum(1 for c in result.issue_changes if c.contradiction), "contradicted claim(s)"),
            (len(result.new_signatures), "new signature(s)"),
            (len(result.spikes), "spike(s)"),
            (len(result.new_templates), "new unknown-error template(s)"),
        )
        if n
    ]
    if not result.needs_attention:
        return "nothing needs attention"
    return "needs attention: " + (", ".join(parts) or "issue status changes")


def _title(result: DiffResult) -> str:
    days = result.baseline_days
    span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}" if days else "nothing"
    spec = f"{result.baseline} " if result.baseline else ""
    return f"{result.current} vs {spec}({span})"


_MD_UNSAFE = re.compile(r"[\\`*_\[\]|]")  # "#" only matters at a line start
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _md_cell(value: Any) -> str:
    """One table cell: a single line, Markdown syntax escaped, HTML as entities."""
    text = " ".join(_fmt(value).split())[:300]  # a newline would end the table row
    text = _MD_UNSAFE.sub(lambda m: "\\" + m.group(0), text)
    return re.sub(r"[&<>]", lambda m: _HTML[m.group(0)], text)


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return lines


def _sections(
    result: DiffResult,
) -> Iterator[tuple[str, Sequence[tuple[str, _Getter]], list[Any], str]]:
    """Each non-empty section: title, columns, the rows shown, and a line about the rest."""
    for title, attr, columns in SECTIONS:
        rows = getattr(result, attr)
        if rows:
            rest = len(rows) - MAX_ROWS
            more = f"{rest} more not shown (all of them are in --json)" if rest > 0 else ""
            yield title, columns, rows[:MAX_ROWS], more


def markdown(result: DiffResult) -> str:
    """The diff as a Markdown document (GitHub-flavoured tables)."""
    lines = [f"## forensics diff: {_title(result)}", "", f"**{headline(result)}**", ""]
    for title, columns, rows, more in _sections(result):
        lines += [f"### {title}", ""]
        lines += _md_table([h for h, _ in columns], ([get(r) for _, get in columns] for r in rows))
        lines += ["", more, ""] if more else [""]
    if result.notes:
        lines += ["### Notes", "", *(f"- {_md_cell(n)}" for n in result.notes), ""]
    return "\n".join(lines)


def print_rich(result: DiffResult, console: Console) -> None:
    """The diff as rich tables, most important first."""
    console.rule(f"forensics diff: {_title(result)}")
    style = "bold red" if result.needs_attention else "green"
    console.print(Text(headline(result), style=style))
    for title, columns, rows, more in _sections(result):
        table = Table(title=title, title_justify="left", caption=more or None)
        for header, _ in columns:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*(Text(_fmt(get(row))) for _, get in columns))
        console.print(table)
    for note in result.notes:
        console.print(Text(f"note: {redact_text(note)}", style="yellow"))


def finding_lines(result: DiffResult) -> list[str]:
    """One plain sentence per finding, most important first (watch output, webhook text)."""
    lines = []
    for c in result.issue_changes:
        was = f" (was {c.previous})" if c.previous else ""
        claim = f", claimed {c.claimed_status}" if c.claimed_status else ""
        contra = ": the claim is contradicted" if c.contradiction else ""
        why = f". {clip(' '.join(redact_text(c.basis).split()), 200)}" if c.basis else ""
        lines.append(f"issue {c.id} {c.status}{was}{claim}{contra}{why}")
    for n in result.new_signatures:
        lines.append(f"new signature {n.key} on {n.service or '(no service)'}: {n.count} entries")
    for s in result.spikes:
        lines.append(
            f"spike {s.key} on {s.service or '(no service)'}: {s.count} against "
            f"{_fmt(s.baseline)} (x{_fmt(s.ratio)}, p={_fmt(s.p_value)})"
        )
    for n in result.new_templates[:MAX_LINES]:
        text = clip(" ".join(_template_text(n.details, n.key).split()), 160)
        services = _fmt(n.details.get("services") or n.service or "")
        where = f" on {services}" if services else ""
        lines.append(f"new unknown error{where} ({n.count} entries): {text}")
    if len(result.new_templates) > MAX_LINES:
        lines.append(f"... and {len(result.new_templates) - MAX_LINES} more new unknown errors")
    for g in result.gone_signatures:
        lines.append(f"gone {g.key} on {g.service or '(no service)'} (was {_fmt(g.baseline)})")
    return lines
