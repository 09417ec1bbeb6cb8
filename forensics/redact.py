"""Hide secrets in log-derived text: the one redaction every output passes through.

Usage:
  - ``redact_text(s)`` / ``redact_obj(value)``: ``s`` (or every string, keys included, in nested
    dicts, lists and tuples) with each secret replaced by a marker such as ``[REDACTED:jwt]`` or
    ``password=***``, and control characters neutralised. Call it at the output boundary: JSON
    documents, report contexts, Markdown, webhook payloads.
  - ``redact_secrets(s)``: the same rules without touching control characters, for text that is
    already rendered for a terminal (rich's own colour codes must survive).
  - ``Redactor(emails=True)`` when e-mail addresses must go too; ``redactor.counts`` says how
    many of each kind were replaced (the report header shows it).

The rules are hand-written regular expressions, not a detector library: detect-secrets (the
maintained candidate) scans files line by line and reports findings, not spans to rewrite in
place, misses secrets split across a JSON value or a multi-line key, and costs a plugin pass per
line. The shapes (and look-alikes that must stay) are pinned by tests/hostile/secrets.json.
The rules err on the side of hiding: a false positive costs a reader one unreadable word, a
false negative leaks a credential to a chat channel.

Cost: O(n) in the text for every rule (log text is hostile; no input may hang an output). A
rule's search must not restart inside a run it has already read: a run-starting rule (JWT,
DSN scheme, e-mail) is tried from the run's first possible start only (group ``head``, kept),
and the secret-name rules and quoted values are built in forensics/redact_names.py, which says
how. RE2 would guarantee linear time but cannot express the rules (look-behind, back-references).
tests/test_redact_linear.py holds each rule to its 0.4.0 regex and times hostile texts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from forensics.redact_names import BARE, EQ_NAME, NAME, NOT_A_VALUE, TAG, QuotedField, keep_name

__all__ = ["Redactor", "redact_obj", "redact_secrets", "redact_text"]

Replacement = str | Callable[[re.Match[str]], str]


class _Matcher(Protocol):
    """What the rule table needs of a rule: a compiled pattern, or `QuotedField`."""

    def subn(self, repl: Replacement, string: str) -> tuple[str, int]: ...

    def sub(self, repl: Replacement, string: str) -> str: ...


def _keep_head(match: re.Match[str]) -> str:
    return f"{match.group('head')}***"


def _after_head(marker: str) -> Callable[[re.Match[str]], str]:
    """Keep group ``head`` (the start of a run a search cannot restart in), replace the rest."""
    return lambda m: f"{m.group('head')}{marker}"


_TOKEN_REPLACE = "[REDACTED:token]"
# A quoted value's opening quote (JSON, YAML, shell; also JSON-escaped in a message: \\"...\\").
_OPEN_QUOTE = r"(?P<q>\\*[\"'])"

# Order matters: whole blocks first (a private key holds base64 a later rule would eat), then
# structured tokens, then headers, then the generic name=value forms.
_RULES: tuple[tuple[str, str | _Matcher, Replacement], ...] = (
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)",
        "[REDACTED:private-key]",
    ),
    (
        # Every start in a run of token characters reads the same run and the same dot after
        # it, so only the run's first `eyJ` is tried: `head` skips to it (a start at each `eyJ`
        # of `eyJa-eyJa-…` rescanned the run: O(n^2)).
        "jwt",
        r"(?<![A-Za-z0-9_-])(?P<head>(?>[A-Za-z0-9_-]*?(?=\beyJ)))"
        r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        _after_head("[REDACTED:jwt]"),
    ),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{30,}", "[REDACTED:api-key]"),
    ("oauth-client-secret", r"\bGOCSPX-[0-9A-Za-z_\-]{10,}", "[REDACTED:client-secret]"),
    ("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-.]{10,}", _TOKEN_REPLACE),
    ("google-refresh-token", r"\b1//0[0-9A-Za-z_\-]{20,}", _TOKEN_REPLACE),
    ("aws-access-key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b", "[REDACTED:api-key]"),
    (
        "github-token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
        _TOKEN_REPLACE,
    ),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}", _TOKEN_REPLACE),
    ("slack-token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}", _TOKEN_REPLACE),
    (
        "slack-webhook",
        r"(?P<head>\bhooks\.slack\.com/(?:services|workflows|triggers)/)(?!\[REDACTED)"
        r"[^\s\"'\\]+",
        lambda m: f"{m.group('head')}[REDACTED:webhook]",
    ),
    (
        "discord-webhook",
        r"(?P<head>\bdiscord(?:app)?\.com/api/webhooks/)(?!\[REDACTED)[^\s\"'\\]+",
        lambda m: f"{m.group('head')}[REDACTED:webhook]",
    ),
    ("stripe-key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", "[REDACTED:api-key]"),
    ("openai-key", r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}", "[REDACTED:api-key]"),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", "[REDACTED:api-key]"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{30,}", _TOKEN_REPLACE),
    (
        # Authorization / Proxy-Authorization: whatever scheme, the credentials go; the scheme
        # word stays (it helps). Also in JSON header maps ("Authorization": "Bearer x").
        "authorization",
        r"(?i)(?P<head>(?>\b(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\\?[\"']?"
        r"(?>(?:(?:bearer|basic|token|digest|negotiate|ntlm|hmac[\w-]*|aws4-hmac-sha256|"
        r"sharedkey|gsso?)\s+)?)))(?!\*{3}|\[REDACTED)[^\r\n\"'\\\x1b]+",
        _keep_head,
    ),
    (
        # `Bearer <token>` anywhere else; a token has a digit or is long (not "Bearer realm").
        "bearer",
        r"(?i)(?P<head>\bbearer\s+)(?=[A-Za-z0-9\-._~+/]*\d|[A-Za-z0-9\-._~+/]{20,})"
        r"[A-Za-z0-9\-._~+/]{8,}=*",
        _keep_head,
    ),
    (
        # Cookie and Set-Cookie headers: every value of the header goes.
        "cookie",
        r"(?i)(?P<head>(?>\b(?:set-)?cookie\\?[\"']?\s*:\s*\\?[\"']?))(?!\*{3}|\[REDACTED)"
        r"[^\r\n\"'\\\x1b]+",
        _keep_head,
    ),
    (
        # scheme://user:password@host -> scheme://user:***@host (the user stays: it helps).
        # Greedy up to the last @ so a password containing @ is hidden whole. The scheme is
        # tried from the first place its run allows (every start reads to the same `://`).
        "dsn-password",
        r"(?<![A-Za-z0-9+.\-])(?P<head>(?>[A-Za-z0-9+.\-]*?\b(?=[A-Za-z]))"
        r"[A-Za-z0-9+.\-]*+://[^\s:/@'\"]*:)(?!\*{3}@)[^\s/'\"]+@",
        lambda m: f"{m.group('head')}***@",
    ),
    (
        # URL query parameters that sign or authorise a request (Azure SAS `sig`, GCS and S3
        # signed URLs, `?key=AIza…`, `?code=` of Azure Functions).
        "url-signature",
        r"(?i)(?P<name>(?:[?&]|&amp;)(?:sig|signature|x-goog-signature|x-amz-signature|"
        r"x-amz-security-token|x-amz-credential|key|code|access_token|token))(?P<sep>=)"
        r"(?!\*{3})[^\s&#\"'<>]+",
        lambda m: f"{m.group('name')}{m.group('sep')}***",
    ),
    (
        # <password>x</password> in XML and SOAP bodies.
        "secret-element",
        rf"(?P<head><{TAG}>)(?!\*{{3}})[^<]+(?=</(?P=tag)>)",
        _keep_head,
    ),
    (
        # "db_password": "x", password: 'x', \"api_key\": \"x\", PASSWORD="x y".
        "secret-field",
        QuotedField(rf"{NAME}(?P<sep>\\*[\"']?\s*:\s*){NOT_A_VALUE}{_OPEN_QUOTE}"),
        keep_name,
    ),
    (
        "secret-field",
        QuotedField(rf"{EQ_NAME}(?P<sep>\\*[\"']?\s*=\s*){NOT_A_VALUE}{_OPEN_QUOTE}"),
        keep_name,
    ),
    (
        # DB_PASSWORD=x, aws_secret_access_key = x, Password=x; in a connection string.
        "secret-param",
        rf"{EQ_NAME}(?P<sep>\\?[\"']?\s*=\s*){NOT_A_VALUE}(?!\\?[\"']){BARE}",
        keep_name,
    ),
    (
        # password: x on a config or log line. A number counts (`"pin_password": 1234`);
        # null/true/false, objects and placeholders do not.
        "secret-param",
        rf"{NAME}(?P<sep>\\?[\"']?\s*:[ \t]*){NOT_A_VALUE}(?!\\?[\"']){BARE}",
        keep_name,
    ),
)
# Control characters render as nothing or reorder text (bidi overrides: "Trojan Source"), so a
# log line could look unlike what it says; they become U+FFFD. Zero-width characters are dropped
# first so they cannot split a secret into pieces the rules above do not recognise.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# The local part is tried from the first place its run allows, as the scheme of dsn-password.
_EMAIL = (
    "email",
    r"(?<![A-Za-z0-9._%+\-])(?P<head>(?>[A-Za-z0-9._%+\-]*?\b(?=[A-Za-z0-9._%+\-])))"
    r"[A-Za-z0-9._%+\-]++@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b",
    _after_head("[REDACTED:email]"),
)
# What a text must contain for a rule to match there (a necessary condition, checked first):
# most strings (timestamps, revision names, messages) hold none, and the rules' regexes cost
# tens of microseconds a string each. A rule without an entry always runs.
_NAME_WORD = r"(?i:pass|pwd|secret|token|key|credential|session|sid|auth|cookie)"
_NEEDLES: dict[str, str] = {
    "private-key": r"PRIVATE KEY",
    "jwt": r"eyJ",
    "google-api-key": r"AIza",
    "oauth-client-secret": r"GOCSPX-",
    "google-oauth-token": r"ya29\.",
    "google-refresh-token": r"1//0",
    "aws-access-key": r"AKIA|ASIA|AGPA|AIDA|AROA|ANPA",
    "github-token": r"gh[pousr]_|github_pat_",
    "gitlab-token": r"glpat-",
    "slack-token": r"xox",
    "slack-webhook": r"hooks\.slack\.com/",
    "discord-webhook": r"discord",
    "stripe-key": r"k_(?:live|test)_",
    "openai-key": r"sk-",
    "sendgrid-key": r"SG\.",
    "npm-token": r"npm_",
    "authorization": r"(?i:authorization)",
    "bearer": r"(?i:bearer)",
    "cookie": r"(?i:cookie)",
    "dsn-password": r"://",
    "url-signature": r"[?&]",
    "secret-element": rf"<[^<>]*{_NAME_WORD}",
    "secret-field": _NAME_WORD,
    "secret-param": _NAME_WORD,
    "email": r"@",
}
_Rule = tuple[str, _Matcher, Replacement, re.Pattern[str] | None]


_NEEDLE_PATTERNS = {needle: re.compile(needle) for needle in _NEEDLES.values()}  # one per text


def _compile(kind: str, rx: str | _Matcher, repl: Replacement) -> _Rule:
    needle = _NEEDLES.get(kind)
    matcher = re.compile(rx) if isinstance(rx, str) else rx
    return kind, matcher, repl, _NEEDLE_PATTERNS[needle] if needle else None


_COMPILED = [_compile(*rule) for rule in _RULES]
_COMPILED_EMAIL = [*_COMPILED, _compile(*_EMAIL)]
# Cheap pre-check: text with none of these characters cannot hold any shape above.
_MAYBE = re.compile(r"[=:@\-_.</]|eyJ|AIza|AKIA|ASIA|bearer|Bearer|BEARER")


@dataclass
class Redactor:
    """The redaction rules plus a count of what they replaced."""

    emails: bool = False
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._compiled = _COMPILED_EMAIL if self.emails else _COMPILED

    def secrets(self, value: str) -> str:
        """``value`` with every secret replaced (control characters left alone)."""
        if not _MAYBE.search(value):
            return value
        # Several rules share a needle (the secret-name words: four rules): each needle is
        # searched once per value, again only after a rule changed the value.
        found: dict[re.Pattern[str], bool] = {}
        for kind, pattern, repl, needle in self._compiled:
            if needle is not None:
                hit = found.get(needle)
                if hit is None:
                    hit = found[needle] = needle.search(value) is not None
                if not hit:
                    continue
            value, n = pattern.subn(repl, value)
            if n:
                self.counts[kind] += n
                found.clear()
        return value

    def text(self, value: str) -> str:
        """``value`` with controls neutralised and every secret replaced; counts replacements."""
        return self.secrets(_CONTROLS.sub("\ufffd", _ZERO_WIDTH.sub("", value)))

    def tree(self, value: Any) -> Any:
        """Redact every string (keys included) in nested dicts, lists and tuples.

        O(n) in the strings' total length. A string that recurs (keys, services, log names: a
        wide fleet's report holds a few thousand distinct strings tens of thousands of times)
        is redacted once, by a Redactor of its own; what that one replaced is counted here at
        every occurrence.
        """
        return self._tree(value, {})

    def _tree(self, value: Any, seen: dict[str, tuple[str, Counter[str]]]) -> Any:
        if isinstance(value, str):
            done = seen.get(value)
            if done is None:
                alone = Redactor(emails=self.emails)
                done = seen[value] = (alone.text(value), alone.counts)
            if done[1]:
                self.counts.update(done[1])
            return done[0]
        if isinstance(value, dict):
            return {self._tree(k, seen): self._tree(v, seen) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._tree(v, seen) for v in value]
        return value


def redact_text(value: str, *, emails: bool = False) -> str:
    """``value`` with secrets hidden and control characters neutralised."""
    return Redactor(emails=emails).text(value)


def redact_secrets(value: str) -> str:
    """``value`` with secrets hidden; control characters (terminal colours) left alone."""
    return Redactor().secrets(value)


def redact_obj(value: Any, *, emails: bool = False) -> Any:
    """Every string of a nested JSON-ready value (keys included) passed through redact_text."""
    return Redactor(emails=emails).tree(value)
