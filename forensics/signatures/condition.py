"""Parse a signature's `condition` (Sigma's small boolean language) into a tree.

Grammar, loosest binding first::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | ("1" | "all") "of" PATTERN | NAME

``PATTERN`` is a selection name, a glob such as ``selection_*``, or ``them`` (every selection).
Globs are expanded when parsing, so the tree holds only names, not, and, or.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["And", "Name", "Node", "Not", "Or", "parse_condition"]


@dataclass(frozen=True)
class Name:
    """A reference to one named selection."""

    name: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Name | Not | And | Or

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*?]+)")


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"unexpected character {text[pos:].strip()[:1]!r} at {pos}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], names: Sequence[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.names = list(names)

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ValueError("condition ends too early")
        self.pos += 1
        return token

    def _chain(self, word: str, operand: Callable[[], Node], make: type[And] | type[Or]) -> Node:
        parts = [operand()]
        while self.peek() == word:
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else make(tuple(parts))

    def expr(self) -> Node:
        return self._chain("or", self.term, Or)

    def term(self) -> Node:
        return self._chain("and", self.factor, And)

    def factor(self) -> Node:
        token = self.take()
        if token == "not":
            return Not(self.factor())
        if token == "(":
            node = self.expr()
            if self.take() != ")":
                raise ValueError("missing ')'")
            return node
        if token in ("1", "all") and self.peek() == "of":
            self.take()
            members = self.expand(self.take())
            named: tuple[Node, ...] = tuple(Name(n) for n in members)
            if len(named) == 1:
                return named[0]
            return Or(named) if token == "1" else And(named)
        if token in ("and", "or", "of", ")"):
            raise ValueError(f"unexpected {token!r}")
        if token not in self.names:
            raise ValueError(f"unknown selection {token!r}")
        return Name(token)

    def expand(self, pattern: str) -> list[str]:
        members = self.names if pattern == "them" else fnmatch.filter(self.names, pattern)
        if not members:
            raise ValueError(f"{pattern!r} matches no selection")
        return members


def parse_condition(text: str, names: Sequence[str]) -> Node:
    """Parse ``text`` against the selection ``names``; ValueError says what is wrong.

    Example:
        >>> parse_condition("1 of selection_* and not filter", ["selection_a", "filter"])
        And(children=(Name(name='selection_a'), Not(child=Name(name='filter'))))
    """
    parser = _Parser(_tokenize(text), names)
    node = parser.expr()
    if parser.peek() is not None:
        raise ValueError(f"unexpected {parser.peek()!r} after a complete condition")
    return node


def referenced(node: Node) -> set[str]:
    """Every selection name the tree uses."""
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Not):
        return referenced(node.child)
    return set().union(*(referenced(c) for c in node.children))
