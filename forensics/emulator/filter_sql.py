"""Compile a parsed Logging or Monitoring filter into a DuckDB boolean expression over raw JSON.

The emulator keeps every served object as its JSON text in a column ``raw``; a few hot fields
are also real columns (``ts``, ``rts`` for receiveTimestamp, ``severity_num``, ``log_name``,
``resource_type``) so the common restrictions prune by zone maps instead of parsing JSON.
Values are bound as ``?`` parameters, never pasted into the SQL.

Matching follows the API's documented rules: string comparisons ignore case, ``:`` is a
substring test (``:*`` a presence test), ``=~`` is an RE2 regular expression (DuckDB's regex
engine is RE2, like Cloud Logging's), severities compare by level, timestamps as times (to the
microsecond: nanoseconds are cut, as the client libraries do), bare numbers as numbers, and a
comparison on a missing field is false (so ``NOT`` of it is true). A global restriction
searches the entry's JSON text, which is close to "any field" but also sees key names; the
emulator documents that difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from forensics.emulator.filter_parser import (
    And,
    Compare,
    FilterSyntaxError,
    Global,
    LogId,
    Node,
    Not,
    Or,
)
from forensics.schema import SEVERITY_LEVELS
from forensics.timeutil import parse_rfc3339 as _parse_rfc3339

__all__ = ["ENTRY_COLUMNS", "CompiledFilter", "compile_filter", "parse_rfc3339", "time_bounds"]

# Fields stored as real columns of the emulator's entry table, and how they compare.
ENTRY_COLUMNS: dict[tuple[str, ...], tuple[str, str]] = {
    ("timestamp",): ("ts", "time"),
    ("receiveTimestamp",): ("rts", "time"),
    ("severity",): ("severity_num", "severity"),
    ("logName",): ("log_name", "text"),
    ("resource", "type"): ("resource_type", "text"),
}
_TIME_FIELDS = {("timestamp",), ("receiveTimestamp",)}


@dataclass
class CompiledFilter:
    """SQL text and its positional parameters."""

    sql: str
    params: list[Any] = field(default_factory=list)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 filter value; FilterSyntaxError when it is not one."""
    try:
        return _parse_rfc3339(text)
    except ValueError:
        raise FilterSyntaxError(f"invalid timestamp {text!r}") from None


def _json_path(path: tuple[str, ...]) -> str:
    for segment in path:
        if any(ch in segment for ch in "\"'\\"):
            raise FilterSyntaxError(f"unsupported field name {'.'.join(path)!r}")
    return "$." + ".".join(f'"{s}"' for s in path)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Compiler:
    def __init__(self, columns: dict[tuple[str, ...], tuple[str, str]]) -> None:
        self.columns = columns
        self.params: list[Any] = []

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def node(self, node: Node) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.node(n) for n in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(n) for n in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item)})"
        if isinstance(node, Global):
            return f"contains(lower(raw), {self.bind(node.text.lower())})"
        if isinstance(node, LogId):
            suffix = self.bind("/logs/" + quote(node.log_id, safe="").lower())
            return f"coalesce(ends_with(lower({self.text_expr(('logName',))}), {suffix}), false)"
        return f"coalesce({self.compare(node)}, false)"

    def text_expr(self, path: tuple[str, ...]) -> str:
        column = self.columns.get(path)
        if column is not None and column[1] == "text":
            return column[0]
        return f"json_extract_string(raw, '{_json_path(path)}')"

    def compare(self, c: Compare) -> str:
        column = self.columns.get(c.path)
        kind = column[1] if column else ("time" if c.path in _TIME_FIELDS else "text")
        if c.op in ("=~", "!~"):
            expr = f"regexp_matches({self.text_expr(c.path)}, {self.bind(c.value)})"
            return expr if c.op == "=~" else f"NOT {expr}"
        if c.op == ":" and c.value == "*" and not c.quoted:
            return f"({self.text_expr(c.path)} IS NOT NULL)"
        if kind == "time":
            return self.compare_time(c, column[0] if column else None)
        if kind == "severity":
            return self.compare_severity(c, column[0] if column else "severity_num")
        expr = self.text_expr(c.path)
        if c.op == ":":
            return f"contains(lower({expr}), {self.bind(c.value.lower())})"
        if c.op in ("=", "!=") or c.quoted or not _is_number(c.value):
            sql_op = "<>" if c.op == "!=" else c.op
            if c.op == "!=":
                return f"(({expr}) IS NULL OR lower({expr}) <> {self.bind(c.value.lower())})"
            return f"lower({expr}) {sql_op} {self.bind(c.value.lower())}"
        return f"TRY_CAST({expr} AS DOUBLE) {c.op} {self.bind(float(c.value))}"

    def compare_time(self, c: Compare, column: str | None) -> str:
        if c.op == ":":
            raise FilterSyntaxError(f"':' is not a time comparison ({'.'.join(c.path)})")
        expr = column or f"TRY_CAST({self.text_expr(c.path)} AS TIMESTAMPTZ)"
        sql_op = "<>" if c.op == "!=" else c.op
        return f"{expr} {sql_op} {self.bind(parse_rfc3339(c.value))}"

    def compare_severity(self, c: Compare, column: str) -> str:
        name = c.value.upper()
        if name in SEVERITY_LEVELS:
            level = SEVERITY_LEVELS[name]
        elif _is_number(c.value):
            level = int(float(c.value))
        else:
            raise FilterSyntaxError(f"unknown severity {c.value!r}")
        sql_op = {"!=": "<>", ":": "="}.get(c.op, c.op)
        return f"{column} {sql_op} {self.bind(level)}"


def compile_filter(
    node: Node | None, columns: dict[tuple[str, ...], tuple[str, str]] | None = None
) -> CompiledFilter:
    """SQL for ``node`` (``TRUE`` for no filter); ``columns`` maps fields to real columns."""
    if node is None:
        return CompiledFilter("TRUE")
    compiler = _Compiler(ENTRY_COLUMNS if columns is None else columns)
    sql = compiler.node(node)
    return CompiledFilter(sql, compiler.params)


def time_bounds(node: Node | None) -> tuple[datetime | None, datetime | None]:
    """The widest [low, high] timestamp range the filter can match (None: unbounded).

    Lets the emulator start scanning at the first entry that can match instead of at the first
    entry it holds; the full filter is still applied to every row.
    """
    if isinstance(node, Compare) and node.path == ("timestamp",) and node.op != ":":
        at = parse_rfc3339(node.value)
        return {
            ">": (at, None),
            ">=": (at, None),
            "<": (None, at),
            "<=": (None, at),
            "=": (at, at),
        }.get(node.op, (None, None))
    if isinstance(node, And):
        bounds = [time_bounds(n) for n in node.items]
        lows = [lo for lo, _ in bounds if lo is not None]
        highs = [hi for _, hi in bounds if hi is not None]
        return (max(lows) if lows else None, min(highs) if highs else None)
    if isinstance(node, Or):
        bounds = [time_bounds(n) for n in node.items]
        low_list = [lo for lo, _ in bounds]
        high_list = [hi for _, hi in bounds]
        low = None if any(v is None for v in low_list) else min(v for v in low_list if v)
        high = None if any(v is None for v in high_list) else max(v for v in high_list if v)
        return (low, high)
    return (None, None)
