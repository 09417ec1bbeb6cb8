"""Secret names and their values for redaction (`DB_PASSWORD=x`, `"clientSecret": "x"`, `<pwd>`).

The name rules of forensics/redact.py are built here, in a form whose cost is linear in the
text: a regex search tries every start position, so each attempt must cost O(1) or scan text
no other attempt scans.

A name is a run of ``[A-Za-z0-9_.-]`` ending in a secret word: ``-{0,2}`` dashes, a prefix of
words joined by ``_ . -`` (``DB_``, ``spring.datasource.``) or by a camel hump (``client`` in
``clientSecret``), then the word. The 0.4 regexes matched it from its left end, and a search
tried a start after every separator (and every way to cut camel humps), each scanning the run
to its end: O(n^2) on ``a_a_a_...`` or ``aBaBaB...`` (4,000 characters took 3 s). But a name
is kept as written, so where it starts never changes the output; only whether some start
exists does, and that depends on the two characters before the word alone:
  - a long word (``password``, ``token``: `_ATTACHED_WORDS`) may follow any alphanumeric run
    (``PGPASSWORD``, ``csrftoken``), so it is a name wherever it ends the run;
  - any other secret word, when what precedes it is not alphanumeric (an empty prefix or one
    ending in a separator), or is a camel hump (``[a-z0-9]`` then the word's ``[A-Z]``);
  - a short word (``pass``, ``sid``) needs a non-empty prefix: a separator after an
    alphanumeric (``db_pass``), or a camel hump (``smtpPass``); before ``=`` it may also stand
    alone (``pass=x``).
So the match starts at the word, behind fixed-width look-behinds: O(1) per start. A tag
(``<db_password>``) is matched whole, since its closing tag must repeat it; it starts only at
``<``, and its prefix is one run scanned once (each run has one parse).

A quoted value ends at the first repeat of its opening quote (with as many backslashes) on its
line. A regex back-reference compares the whole quote at each character (O(n^2) for a quote of
n/2 backslashes), and each opening with no close rescans the line; `QuotedField` finds the
close from an index of the text's quotes instead: O(1 + b) for an opening of b backslashes
(amortized over a text's openings, read left to right), so O(n) a text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["BARE", "EQ_NAME", "NAME", "NOT_A_VALUE", "TAG", "QuotedField", "keep_name"]

# The last word of a name whose value is a secret: `password`, `DB_PASSWORD`, `dbPassword`,
# `aws_secret_access_key`, `x-api-key`. Matched case-insensitively as the END of the name, so
# `PASSWORD_MIN_LENGTH`, `max_tokens` and `password_hash` are not secrets.
_SECRET_WORDS = (
    r"password|passwd|passphrase|secret|secret[_.\-]?key(?:[_.\-]?base)?|token|api[_.\-]?key|"
    r"apikey|access[_.\-]?key(?:[_.\-]?id)?|private[_.\-]?key(?:[_.\-]?id)?|signing[_.\-]?key|"
    r"encryption[_.\-]?key|master[_.\-]?key|account[_.\-]?key|shared[_.\-]?access[_.\-]?key|"
    r"credentials?|session[_.\-]?id|sessionid"
)
# Short words that are also ordinary ones ("tests pass: 3 of 5", "auth": {...}): a secret only
# after a prefix (`SMTP_PASS`, `db_pwd`) or before `=`.
_WEAK_WORDS = r"pass|pwd|sid|session|auth|cookie"
# Long words may also follow a prefix directly (`PGPASSWORD`, `csrftoken`); short ones may not
# (`bypass`, `compass`).
_ATTACHED_WORDS = r"password|passwd|passphrase|secret|token|apikey"

# What may stand before a word, read at its first character (see the module docstring).
_AFTER_NON_ALNUM = r"(?<![A-Za-z0-9])"
_CAMEL_HUMP = r"(?<=[a-z0-9])(?=[A-Z])"
_AFTER_SEPARATOR = r"(?<=[A-Za-z0-9][_.\-])"
_WORD = (
    rf"(?i:{_ATTACHED_WORDS})"
    rf"|(?:{_AFTER_NON_ALNUM}|{_CAMEL_HUMP})(?i:{_SECRET_WORDS})"
    rf"|(?:{_AFTER_SEPARATOR}|{_CAMEL_HUMP})(?i:{_WEAK_WORDS})"
)
# A word's first letter, looked ahead for first: a search then rejects most starts at once
# (a third of the cost on a long run).
_FIRST = "".join(
    sorted({w[0] for w in f"{_SECRET_WORDS}|{_WEAK_WORDS}|{_ATTACHED_WORDS}".split("|")})
)
# The word of a name that ends a run (a separator such as `:` or `=` follows).
NAME = rf"(?=(?i:[{_FIRST}]))(?P<name>{_WORD})(?![A-Za-z0-9_])"
# Before `=`, short words count on their own too (`pass=x`, `sid=x`).
EQ_NAME = (
    rf"(?=(?i:[{_FIRST}]))(?P<name>{_WORD}|{_AFTER_NON_ALNUM}(?i:{_WEAK_WORDS}))(?![A-Za-z0-9_])"
)
# A whole name from its first character: dashes, then words joined by separators, then the
# word (whose look-behinds see the prefix's end; an empty prefix leaves `<` or `-` there).
TAG = rf"(?P<tag>-{{0,2}}(?:[A-Za-z0-9]+[_.\-])*[A-Za-z0-9]*(?:{_WORD}))"

# Values that are not secrets: already hidden, empty markers, SQL/format placeholders, literals.
NOT_A_VALUE = (
    r"(?!\*{3}|\[REDACTED|REDACTED\b|<redacted>|\$\d|\$\{|%s\b|\?(?:\W|$)|:[A-Za-z_]\w*\b|"
    r"(?i:null|true|false|none|nil)\b|[{\[])"
)
# ESC ends a value too: in rendered terminal text it starts rich's own colour codes.
BARE = r"[^\s&,;\"'<>)}\]\x1b]+"


def keep_name(match: re.Match[str]) -> str:
    """Keep the name and separator (``password=``), hide the value (and keep its quotes)."""
    quote = match.groupdict().get("q") or ""
    return f"{match.group('name')}{match.group('sep')}{quote}***{quote}"


# Each quote with the backslashes before it (a run is read once: starts only at its head).
_QUOTE = re.compile(r"(?<!\\)(\\*+)([\"'])")
_LINE_BREAK = re.compile(r"[\r\n]")


class _Quotes:
    """Where each quote of a text is, how many backslashes precede it, and the line breaks.

    ``ahead[i]`` is the next quote of the same character with more backslashes than quote
    ``i`` (a stack, right to left): looking for a quote with at least ``b`` takes at most ``b``
    such jumps. Built in O(n). Openings are asked for left to right, so the first quote and
    line break at or after one are found by pointers that only move forward.
    """

    def __init__(self, text: str) -> None:
        self.breaks = [m.start() for m in _LINE_BREAK.finditer(text)]
        self.at: dict[str, list[int]] = {'"': [], "'": []}
        self.escapes: dict[str, list[int]] = {'"': [], "'": []}
        for m in _QUOTE.finditer(text):
            self.at[m.group(2)].append(m.start(2))
            self.escapes[m.group(2)].append(len(m.group(1)))
        self.ahead: dict[str, list[int]] = {}
        for char, escapes in self.escapes.items():
            ahead = [len(escapes)] * len(escapes)
            stack: list[int] = []
            for i in range(len(escapes) - 1, -1, -1):
                while stack and escapes[stack[-1]] <= escapes[i]:
                    stack.pop()
                if stack:
                    ahead[i] = stack[-1]
                stack.append(i)
            self.ahead[char] = ahead
        self._rewind(0)

    def _rewind(self, end: int) -> None:
        self.next_quote, self.next_break, self.last_end = {'"': 0, "'": 0}, 0, end

    def close(self, start: int, end: int, text: str) -> int | None:
        """End of the quoted value whose opening quote is ``text[start:end]``, or None (asked
        with ``end`` never smaller than the last time).

        As ``(?P<q>...)(?:(?!(?P=q))[^\\r\\n])+(?P=q)``: the first repeat of the opening after
        it must come before the line ends, and not at once (the value is not empty).
        """
        if end < self.last_end:  # not left to right after all: correct, at a rescan's cost
            self._rewind(end)
        self.last_end = end
        char, escapes = text[end - 1], end - 1 - start
        quotes, counts, ahead = self.at[char], self.escapes[char], self.ahead[char]
        i = self.next_quote[char]
        while i < len(quotes) and quotes[i] < end:
            i += 1
        self.next_quote[char] = i
        # (a quote within `escapes` characters of `end` has fewer backslashes: jumped over)
        while i < len(quotes) and counts[i] < escapes:
            i = ahead[i]
        if i == len(quotes):
            return None
        stop = quotes[i]
        while self.next_break < len(self.breaks) and self.breaks[self.next_break] < end:
            self.next_break += 1
        line = self.next_break
        if stop - escapes == end or (line < len(self.breaks) and self.breaks[line] < stop):
            return None
        return stop + 1


class QuotedField:
    """A secret name, its separator and a quoted value, hidden as `keep_name` says.

    ``head`` is a regex that ends with the opening quote as group ``q``; the value runs to
    its close (`_Quotes.close`). Stands in for a compiled pattern in redact's rule table
    (``sub``/``subn``); a replacement string is taken literally.
    """

    def __init__(self, head: str) -> None:
        self.head = re.compile(head)

    def subn(self, repl: str | Callable[[re.Match[str]], str], string: str) -> tuple[str, int]:
        pieces: list[str] = []
        done = search = 0
        quotes: _Quotes | None = None
        while (m := self.head.search(string, search)) is not None:
            quotes = quotes or _Quotes(string)
            end = quotes.close(m.start("q"), m.end("q"), string)
            if end is None:
                search = m.start() + 1
                continue
            pieces += [string[done : m.start()], repl if isinstance(repl, str) else repl(m)]
            done = search = end
        if not pieces:
            return string, 0
        return "".join([*pieces, string[done:]]), len(pieces) // 2

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str) -> str:
        return self.subn(repl, string)[0]
