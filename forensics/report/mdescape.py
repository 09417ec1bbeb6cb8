"""Escape untrusted text for GitHub-flavoured Markdown, so log lines stay inert text.

Three forms, each safe where it is used:
  - ``md_text(s)``: prose. The characters that start inline Markdown are backslash-escaped
    (emphasis, code, links and images, raw HTML and entities, tables, strikethrough, GitHub
    math), so are GFM autolinks (``https\\://``, ``www\\.``), e-mail autolinks and @mentions
    (``\\@``), issue references (``\\#12``), and a leading character that would start a heading,
    list, quote or rule. What is left (``:``, ``/``, ``-`` mid-text) is inert and stays readable.
  - ``md_code(s, cell=True)``: an inline code span, fenced with more backticks than any run in
    the text; in a table cell ``|`` is escaped too (GFM splits cells before code spans).
  - ``md_block(lines)``: a fenced code block whose fence is longer than any backtick run
    inside, so no line can close it early.
Line breaks inside a value become ``⏎`` so a value can never start a new Markdown block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["md_block", "md_code", "md_text", "one_line"]

_INLINE = re.compile(r"([\\`*_\[\]<>&|~$@])")  # backslash first: it is in the class
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=www)(\.)")
_ISSUE_REF = re.compile(r"#(?=\w)")
_LEADING = re.compile(r"^([#=+\-]+(?=\s|$)|\d+(?=[.)](?:\s|$)))")
_NEWLINES = re.compile(r"\s*(?:\r\n|\r|\n)\s*")
_BACKTICKS = re.compile(r"`+")


def one_line(value: object) -> str:
    """``value`` as text on one line (line breaks shown as ⏎)."""
    return _NEWLINES.sub(" ⏎ ", "" if value is None else str(value)).strip()


def md_text(value: object) -> str:
    """Untrusted text as Markdown prose that renders literally."""
    text = _INLINE.sub(r"\\\1", one_line(value))
    text = _AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    text = _ISSUE_REF.sub(r"\\#", text)
    lead = _LEADING.match(text)
    if lead and lead.group(1)[0].isdigit():  # "1." or "1)" would start an ordered list
        end = lead.end()
        return text[:end] + "\\" + text[end:]
    return "\\" + text if lead else text


def _fence_for(text: str, minimum: int) -> str:
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(minimum, longest + 1)


def md_code(value: object, cell: bool = True) -> str:
    """Untrusted text as an inline code span (empty text gives an empty string)."""
    text = one_line(value)
    if not text:
        return ""
    if cell:
        text = text.replace("|", "\\|")
    fence = _fence_for(text, 1)
    # A space on each side keeps a leading or trailing backtick from joining the fence.
    return f"{fence} {text} {fence}"


def md_block(lines: Iterable[object], info: str = "text") -> str:
    """Untrusted lines as one fenced code block."""
    body = "".join(one_line(line) + "\n" for line in lines)
    fence = _fence_for(body, 3)
    return f"{fence}{info}\n{body}{fence}"
