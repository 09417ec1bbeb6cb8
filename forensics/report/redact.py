"""Redact secrets from log-derived text before any report format sees it.

Usage:
  1. ``Redactor(emails=False)`` compiles the rules once.
  2. ``redactor.text(s)`` returns ``s`` with every secret replaced by a marker such as
     ``[REDACTED:jwt]``; ``redactor.tree(value)`` does the same for every string in nested
     dicts and lists (the report context), so Markdown, HTML and JSON all get the same text.
  3. ``redactor.counts`` says how many of each kind were replaced, for the report header.

The rules err on the side of hiding: a false positive costs a reviewer one unreadable word,
a false negative leaks a credential into an issue thread.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Redactor", "redact_text"]

Replacement = str | Callable[[re.Match[str]], str]

# Names whose value is a secret when written `name=value` (also in URL query strings).
_SECRET_NAMES = (
    r"api[_-]?key|apikey|x-api-key|key|access[_-]?token|refresh[_-]?token|id[_-]?token|"
    r"auth[_-]?token|token|client[_-]?secret|secret|secret[_-]?key|private[_-]?key(?:[_-]?id)?|"
    r"password|passwd|pwd|pass|credentials?|session[_-]?id"
)
# Names strong enough to hide after a colon too (`password: x`, `"client_secret": "x"`);
# `key: x` is too often prose, and `"key": "latest"` an ordinary JSON field.
_STRONG_NAMES = (
    r"api[_-]?key|apikey|x-api-key|access[_-]?token|refresh[_-]?token|id[_-]?token|"
    r"auth[_-]?token|client[_-]?secret|secret[_-]?key|private[_-]?key(?:[_-]?id)?|"
    r"password|passwd|secret"
)


def _keep_name(match: re.Match[str]) -> str:
    """Keep the name and separator (``password=``), hide the value."""
    return f"{match.group('name')}{match.group('sep')}***"


# Order matters: whole blocks first (a private key contains base64 a later rule would eat),
# then structured tokens, then the generic name=value forms.
_RULES: tuple[tuple[str, str, Replacement], ...] = (
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE "
        r"KEY-----|$)",
        "[REDACTED:private-key]",
    ),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", "[REDACTED:jwt]"),
    (
        # `Bearer <token>` anywhere; `Basic <base64>` only as an Authorization value, since
        # "basic" is an ordinary word.
        "bearer",
        r"(?i)(?P<scheme>\bbearer\s+|\bauthorization\\?[\"']?\s*[:=]\s*\\?[\"']?basic\s+)"
        r"[A-Za-z0-9\-._~+/]{8,}=*",
        lambda m: f"{m.group('scheme')}[REDACTED:token]",
    ),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{30,}", "[REDACTED:api-key]"),
    ("oauth-client-secret", r"\bGOCSPX-[0-9A-Za-z_\-]{10,}", "[REDACTED:client-secret]"),
    ("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-.]{10,}", "[REDACTED:token]"),
    ("google-refresh-token", r"\b1//0[0-9A-Za-z_\-]{20,}", "[REDACTED:token]"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "[REDACTED:api-key]"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{30,}", "[REDACTED:token]"),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "[REDACTED:token]"),
    (
        # scheme://user:password@host → scheme://user:***@host (the user stays: it helps).
        # Greedy up to the last @ so a password containing @ is hidden whole.
        "dsn-password",
        r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<pw>[^\s/'\"]+)@",
        lambda m: f"{m.group('head')}***@",
    ),
    (
        # "password": "x", also JSON escaped inside a message (\"password\": \"x\").
        "secret-field",
        rf"(?i)(?P<name>\\?[\"']?\b(?:{_STRONG_NAMES}|token|credentials?|session[_-]?id|pwd)"
        rf"\\?[\"']?)(?P<sep>\s*:\s*\\?[\"'])"
        r"[^\"'\\]+",
        _keep_name,
    ),
    (
        # password=x, &key=x in URLs.
        "secret-param",
        rf"(?i)(?<![A-Za-z0-9_.-])(?P<name>{_SECRET_NAMES})(?P<sep>\s*=\s*)"
        r"(?!\*\*\*|\[REDACTED|REDACTED\b|<redacted>)[^\s&,;\"'<>)}\]]+",
        _keep_name,
    ),
    (
        # password: x on a config or log line.
        "secret-param",
        rf"(?i)(?<![A-Za-z0-9_.-])(?P<name>{_STRONG_NAMES})(?P<sep>:\s*)"
        r"(?!\*\*\*|\[REDACTED|REDACTED\b|<redacted>|\\?[\"'])[^\s&,;\"'<>)}\]]+",
        _keep_name,
    ),
)
# Control characters render as nothing or reorder text (bidi overrides: "Trojan Source"), so a
# log line could look unlike what it says; they become U+FFFD. Zero-width characters are dropped
# first so they cannot split a secret into pieces the rules above do not recognise.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_EMAIL = ("email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")


@dataclass
class Redactor:
    """Compiled redaction rules plus a count of what they replaced."""

    emails: bool = False
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        rules = [*_RULES, (_EMAIL[0], _EMAIL[1], "[REDACTED:email]")] if self.emails else _RULES
        self._compiled = [(kind, re.compile(rx), repl) for kind, rx, repl in rules]

    def text(self, value: str) -> str:
        """``value`` with controls neutralised and every secret replaced; counts replacements."""
        value = _CONTROLS.sub("\ufffd", _ZERO_WIDTH.sub("", value))
        for kind, pattern, repl in self._compiled:
            value, n = pattern.subn(repl, value)
            if n:
                self.counts[kind] += n
        return value

    def tree(self, value: Any) -> Any:
        """Redact every string (keys included) in nested dicts, lists and tuples."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.tree(k): self.tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(v) for v in value]
        return value


def redact_text(value: str, *, emails: bool = False) -> str:
    """One-off redaction of a string (see Redactor for many)."""
    return Redactor(emails=emails).text(value)
