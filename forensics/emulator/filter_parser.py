"""Parse the subset of the Cloud Logging query language the emulator serves into a small AST.

Supported (https://cloud.google.com/logging/docs/view/logging-query-language):
  - comparisons ``FIELD OP VALUE`` with OP one of ``= != < <= > >= : =~ !~``; FIELD is a dotted
    path whose segments may be quoted (``labels."k8s-pod/app"``); VALUE is a quoted string, a
    bare word or number, ``*`` after ``:`` (presence), or a parenthesised OR list
    (``resource.type = ("a" OR "b")``);
  - global restrictions: a bare string or word on its own matches entries with it in any field;
  - ``AND``, ``OR``, ``NOT`` and ``-`` (negation), parentheses, and juxtaposition as AND;
  - the ``log_id("run.googleapis.com/stdout")`` function.
Precedence is the API's own: NOT binds tightest, then OR, then AND, so ``a OR b AND c`` means
``(a OR b) AND c``. Anything else raises ``FilterSyntaxError``, which the emulator answers with
400 INVALID_ARGUMENT as the real API does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "And",
    "Compare",
    "FilterSyntaxError",
    "Global",
    "LogId",
    "Node",
    "Not",
    "Or",
    "parse_filter",
]

OPERATORS = (">=", "<=", "!=", "=~", "!~", "=", "<", ">", ":")
_SPECIAL = set('()"=<>!:~')


class FilterSyntaxError(ValueError):
    """The filter is not in the supported language; the message says where."""


@dataclass(frozen=True)
class Compare:
    path: tuple[str, ...]
    op: str
    value: str
    quoted: bool  # a quoted value is always text; a bare word may be a number or a name


@dataclass(frozen=True)
class Global:
    text: str


@dataclass(frozen=True)
class LogId:
    log_id: str


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Compare | Global | LogId | Not | And | Or


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD, STRING, OP, LPAREN, RPAREN, NEG
    text: str
    pos: int


def _read_string(text: str, i: int) -> tuple[str, int]:
    """Read a double-quoted string starting at text[i] == '"'; return (value, next index)."""
    out: list[str] = []
    j = i + 1
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            out.append(escapes.get(text[j + 1], text[j + 1]))
            j += 2
            continue
        if ch == '"':
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise FilterSyntaxError(f"unterminated string starting at character {i + 1}")


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            toks.append(_Tok("LPAREN", ch, i))
            i += 1
        elif ch == ")":
            toks.append(_Tok("RPAREN", ch, i))
            i += 1
        elif ch == '"':
            value, i2 = _read_string(text, i)
            toks.append(_Tok("STRING", value, i))
            i = i2
        elif text.startswith(OPERATORS, i):
            op = next(o for o in OPERATORS if text.startswith(o, i))
            toks.append(_Tok("OP", op, i))
            i += len(op)
        elif ch == "-" and i + 1 < len(text) and not text[i + 1].isspace():
            prev = toks[-1].kind if toks else None
            if prev in (None, "LPAREN", "WORD", "STRING", "RPAREN"):
                toks.append(_Tok("NEG", ch, i))  # "-field=x" at the start of a term negates it
                i += 1
                continue
            i = _word(text, i, toks)
        elif ch in _SPECIAL:
            raise FilterSyntaxError(f"unexpected {ch!r} at character {i + 1}")
        else:
            i = _word(text, i, toks)
    return toks


def _word(text: str, i: int, toks: list[_Tok]) -> int:
    """A bare word or a field path; a path may continue with quoted segments: a."b c".d."""
    start = i
    parts: list[str] = []
    while i < len(text):
        j = i
        while j < len(text) and not text[j].isspace() and text[j] not in _SPECIAL:
            j += 1
        parts.append(text[i:j])
        i = j
        if parts[-1].endswith(".") and i < len(text) and text[i] == '"':
            value, i = _read_string(text, i)
            if '"' in value or "'" in value:
                raise FilterSyntaxError(f"quotes inside a field name at character {start + 1}")
            parts.append('"' + value + '"')
            if i < len(text) and text[i] == ".":
                continue
        break
    toks.append(_Tok("WORD", "".join(parts), start))
    return i


def _split_path(word: str, pos: int) -> tuple[str, ...]:
    segments: list[str] = []
    buf = ""
    quoted = False
    for ch in word:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            segments.append(buf)
            buf = ""
        else:
            buf += ch
    segments.append(buf)
    if any(not s for s in segments):
        raise FilterSyntaxError(f"bad field name {word!r} at character {pos + 1}")
    return tuple(segments)


class _Parser:
    def __init__(self, toks: list[_Tok], text: str) -> None:
        self.toks = toks
        self.i = 0
        self.text = text

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FilterSyntaxError("unexpected end of filter")
        self.i += 1
        return tok

    def is_kw(self, tok: _Tok | None, word: str) -> bool:
        return tok is not None and tok.kind == "WORD" and tok.text == word

    def parse(self) -> Node:
        node = self.conjunction()
        extra = self.peek()
        if extra is not None:
            raise FilterSyntaxError(f"unexpected {extra.text!r} at character {extra.pos + 1}")
        return node

    def conjunction(self) -> Node:
        items = [self.disjunction()]
        while True:
            tok = self.peek()
            if self.is_kw(tok, "AND"):
                self.take()
                items.append(self.disjunction())
            elif tok is not None and tok.kind != "RPAREN" and not self.is_kw(tok, "OR"):
                items.append(self.disjunction())  # juxtaposition means AND
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def disjunction(self) -> Node:
        items = [self.unary()]
        while self.is_kw(self.peek(), "OR"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and (tok.kind == "NEG" or self.is_kw(tok, "NOT")):
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "LPAREN":
            node = self.conjunction()
            close = self.take()
            if close.kind != "RPAREN":
                raise FilterSyntaxError(f"expected ')' at character {close.pos + 1}")
            return node
        if tok.kind == "STRING":
            self.reject_operator_after(tok)
            return Global(tok.text)
        if tok.kind == "WORD":
            if tok.text in ("AND", "OR"):
                raise FilterSyntaxError(f"{tok.text} without a left operand at {tok.pos + 1}")
            nxt = self.peek()
            if nxt is not None and nxt.kind == "LPAREN" and nxt.pos == tok.pos + len(tok.text):
                return self.function(tok)
            if nxt is not None and nxt.kind == "OP":
                return self.comparison(tok)
            return Global(tok.text)
        raise FilterSyntaxError(f"unexpected {tok.text!r} at character {tok.pos + 1}")

    def reject_operator_after(self, tok: _Tok) -> None:
        nxt = self.peek()
        if nxt is not None and nxt.kind == "OP":
            raise FilterSyntaxError(
                f"a quoted string cannot be compared (character {tok.pos + 1}); "
                "field names are not quoted"
            )

    def function(self, name: _Tok) -> Node:
        if name.text != "log_id":
            raise FilterSyntaxError(f"unsupported function {name.text}() at {name.pos + 1}")
        self.take()  # (
        arg = self.take()
        close = self.take()
        if arg.kind != "STRING" or close.kind != "RPAREN":
            raise FilterSyntaxError(f"log_id takes one quoted log id, at {name.pos + 1}")
        return LogId(arg.text)

    def comparison(self, field: _Tok) -> Node:
        path = _split_path(field.text, field.pos)
        op = self.take().text
        tok = self.take()
        if tok.kind == "LPAREN":
            values = [self.value(op)]
            while self.is_kw(self.peek(), "OR"):
                self.take()
                values.append(self.value(op))
            close = self.take()
            if close.kind != "RPAREN":
                raise FilterSyntaxError(f"expected ')' at character {close.pos + 1}")
            items = tuple(Compare(path, op, v, q) for v, q in values)
            return items[0] if len(items) == 1 else Or(items)
        self.i -= 1
        value, quoted = self.value(op)
        return Compare(path, op, value, quoted)

    def value(self, op: str) -> tuple[str, bool]:
        tok = self.take()
        if tok.kind == "STRING":
            return tok.text, True
        if tok.kind == "WORD" and tok.text not in ("AND", "OR", "NOT"):
            if op in ("=~", "!~"):
                raise FilterSyntaxError(f"a regular expression must be quoted, at {tok.pos + 1}")
            if tok.text == "*" and op != ":":
                raise FilterSyntaxError(f"'*' is only allowed after ':', at {tok.pos + 1}")
            return tok.text, False
        raise FilterSyntaxError(f"expected a value after {op!r} at character {tok.pos + 1}")


def parse_filter(text: str) -> Node | None:
    """Parse a filter; ``None`` for an empty filter (everything matches)."""
    toks = _tokenize(text)
    if not toks:
        return None
    return _Parser(toks, text).parse()
