"""The redaction rules 0.5.0 rewrote, as 0.4.0 wrote them: the oracle they must agree with.

The secret-name, JWT, DSN and e-mail rules (and quoted values) were rewritten so that their
cost is linear in the text (forensics/redact_names.py says how); what they hide was to stay the
same. Here are their 0.4.0 regexes (O(n^2) on long runs: give them short texts only), in the
rule table's order; the word lists and value shapes they share with today's are imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from forensics.redact_names import (
    _ATTACHED_WORDS,
    _SECRET_WORDS,
    _WEAK_WORDS,
    BARE,
    NOT_A_VALUE,
    keep_name,
)

Replacement = str | Callable[[re.Match[str]], str]

_SEPARATED = r"(?:[A-Za-z0-9]+[_.\-])"
_CAMEL = r"(?:[A-Za-z0-9]*[a-z0-9](?=[A-Z]))"
_PREFIXES = rf"(?:{_SEPARATED}*{_CAMEL}?)"
_SOME_PREFIXES = rf"(?:{_SEPARATED}+{_CAMEL}?|{_CAMEL})"
_NAME_BODY = (
    rf"-{{0,2}}(?:{_PREFIXES}(?:[A-Za-z0-9]*(?i:{_ATTACHED_WORDS})|(?i:{_SECRET_WORDS}))"
    rf"|{_SOME_PREFIXES}(?i:{_WEAK_WORDS}))"
)
_ANY_NAME_BODY = rf"(?:{_NAME_BODY}|-{{0,2}}(?i:{_WEAK_WORDS}))"
_NAME = rf"(?<![A-Za-z0-9])(?P<name>{_NAME_BODY})(?![A-Za-z0-9_])"
_EQ_NAME = rf"(?<![A-Za-z0-9])(?P<name>{_ANY_NAME_BODY})(?![A-Za-z0-9_])"
_QUOTED = r"(?P<q>\\*[\"'])(?:(?!(?P=q))[^\r\n])+(?P=q)"


def _keep_head(match: re.Match[str]) -> str:
    return f"{match.group('head')}***"


_RULES: tuple[tuple[str, str, Replacement], ...] = (
    ("jwt", r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", "[REDACTED:jwt]"),
    (
        "dsn-password",
        r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?!\*{3}@)[^\s/'\"]+@",
        lambda m: f"{m.group('head')}***@",
    ),
    (
        "secret-element",
        rf"(?P<head><(?P<tag>{_NAME_BODY})>)(?!\*{{3}})[^<]+(?=</(?P=tag)>)",
        _keep_head,
    ),
    ("secret-field", rf"{_NAME}(?P<sep>\\*[\"']?\s*:\s*){NOT_A_VALUE}{_QUOTED}", keep_name),
    ("secret-field", rf"{_EQ_NAME}(?P<sep>\\*[\"']?\s*=\s*){NOT_A_VALUE}{_QUOTED}", keep_name),
    (
        "secret-param",
        rf"{_EQ_NAME}(?P<sep>\\?[\"']?\s*=\s*){NOT_A_VALUE}(?!\\?[\"']){BARE}",
        keep_name,
    ),
    (
        "secret-param",
        rf"{_NAME}(?P<sep>\\?[\"']?\s*:[ \t]*){NOT_A_VALUE}(?!\\?[\"']){BARE}",
        keep_name,
    ),
    (
        "email",
        r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b",
        "[REDACTED:email]",
    ),
)
REFERENCE = [(kind, re.compile(rx), repl) for kind, rx, repl in _RULES]


def rewritten(table: list[Any]) -> list[Any]:
    """The entries of a rule table (kind, pattern, repl, ...) that REFERENCE holds, in order."""
    kinds = {kind for kind, *_ in REFERENCE}
    return [rule for rule in table if rule[0] in kinds]


def as_in_040(table: list[Any]) -> list[Any]:
    """A rule table with each rewritten rule's pattern and replacement as 0.4.0 wrote them."""
    old = iter(REFERENCE)
    out = []
    for kind, *rest in table:
        if any(kind == k for k, *_ in REFERENCE):
            _kind, pattern, repl = next(old)
            rest[:2] = [pattern, repl]
        out.append((kind, *rest))
    return out
