"""Compile one signature's condition into SQL: its predicates, selections and boolean tree.

Split from forensics.signatures.compile (which puts the whole classification statement together:
gate, traceback chunks, the per-combination evaluation) because the condition's SQL changes for
other reasons: a new predicate modifier, a dialect's spelling, the order cheap tests run in. Also
used alone by filters (``regex_for``) and `forensics patterns` (``condition_sql``).

Cost: linear in the size of the condition; no SQL is run here.
"""

from __future__ import annotations

from forensics.signatures.condition import And, Name, Node, Not
from forensics.signatures.dialect import DUCKDB, Dialect
from forensics.signatures.keywords import keyword_chain, minimal, re_escape
from forensics.signatures.levels import level_sql
from forensics.signatures.model import Predicate, Selection, Signature

__all__ = [
    "all_of",
    "any_of",
    "column_sql",
    "condition_sql",
    "literal",
    "predicate_sql",
    "regex_for",
    "selection_sql",
]


def literal(value: object, dialect: Dialect = DUCKDB) -> str:
    """A SQL literal: numbers as-is, strings quoted and escaped for the dialect."""
    return dialect.literal(value)


def column_sql(dialect: Dialect = DUCKDB) -> dict[str, str]:
    """Columns a condition may reference, as the SQL that computes them from the `src` rows."""
    return {
        "message": "m",
        "severity": "severity_number",
        "level": level_sql("m", dialect),
        "resource_type": "resource_type",
        "log_id": "log_id",
        "log_name": "log_name",
        "service": "service",
        "http_status": "http_status",
        "http_url": "http_url",
        "http_latency_ms": "http_latency_ms",
    }


_COMPARE = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def regex_for(predicate: Predicate) -> str:
    """The RE2 pattern equivalent to a text predicate (used by the gate and by filters)."""
    parts = []
    for value in predicate.values:
        text = str(value)
        parts.append(
            {
                "re": f"(?:{text})",
                "contains": re_escape(text),
                "startswith": f"^{re_escape(text)}",
                "endswith": f"{re_escape(text)}$",
                "eq": f"^{re_escape(text)}$",
            }[predicate.modifier]
        )
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


# Boolean combinators written as CASE: DuckDB evaluates an AND/OR used as a value on every row
# for every operand, but a CASE evaluates each branch only on the rows that reach it, so the
# cheap tests put first really do spare the regexes. CASE also turns NULL (unknown) into FALSE.
def all_of(tests: list[str]) -> str:
    """SQL true when every test is true, evaluated left to right with short-circuit."""
    body = "TRUE"
    for test in reversed(tests):
        body = f"CASE WHEN {test} THEN {body} ELSE FALSE END"
    return body


def any_of(tests: list[str]) -> str:
    """SQL true when some test is true, evaluated left to right with short-circuit."""
    if len(tests) == 1:
        return all_of(tests)
    whens = " ".join(f"WHEN {t} THEN TRUE" for t in tests)
    return f"CASE {whens} ELSE FALSE END"


def _keyword_guard(regex: str, dialect: Dialect) -> list[str]:
    """contains() tests on the lowercased match text that the regex needs to hold.

    A regex without a literal prefix costs a DFA walk over every byte; memmem-fast contains()
    on the keywords it requires spares that walk for almost every row.
    """
    tests = []
    for need in keyword_chain(regex) or []:
        anyof = [
            dialect.contains.format(field="lm", value=dialect.literal(k))
            for k in minimal(need.keywords)
        ]
        tests.append(anyof[0] if len(anyof) == 1 else "(" + " OR ".join(anyof) + ")")
    return tests


def _text_test(column: str, modifier: str, value: object, dialect: Dialect) -> str:
    pattern = dialect.literal(value)
    if modifier == "re":
        test = dialect.regex_match.format(field=column, pattern=pattern)
        guard = _keyword_guard(str(value), dialect) if column == "m" else []
        return all_of([*guard, test]) if guard else test
    template = {
        "contains": dialect.contains,
        "startswith": dialect.startswith,
        "endswith": dialect.endswith,
    }.get(modifier)
    if template:
        return template.format(field=column, value=pattern)
    return f"{column} = {pattern}"


def predicate_sql(
    predicate: Predicate, columns: dict[str, str] | None = None, dialect: Dialect = DUCKDB
) -> str:
    column = (columns or column_sql(dialect))[predicate.field]
    lit = dialect.literal
    if predicate.kind == "text":
        tests = [_text_test(column, predicate.modifier, v, dialect) for v in predicate.values]
    elif predicate.modifier == "eq" and len(predicate.values) > 1:
        tests = [f"{column} IN ({', '.join(lit(v) for v in predicate.values)})"]
    else:
        op = _COMPARE[predicate.modifier]
        tests = [f"{column} {op} {lit(v)}" for v in predicate.values]
    return tests[0] if len(tests) == 1 else any_of(tests)


def _cost(predicate: Predicate) -> int:
    """Cheap tests first, so a selection's regexes run only on rows its other tests let by."""
    if predicate.field == "level":
        return 3
    if predicate.kind != "text":
        return 0
    return 2 if predicate.modifier == "re" else 1


def selection_sql(
    selection: Selection, columns: dict[str, str] | None = None, dialect: Dialect = DUCKDB
) -> str:
    """All of a selection's tests; unknown (NULL column) counts as no."""
    ordered = sorted(selection.predicates, key=_cost)
    return all_of([predicate_sql(p, columns, dialect) for p in ordered])


def condition_sql(signature: Signature, node: Node | None = None, dialect: Dialect = DUCKDB) -> str:
    """The boolean SQL for a signature's condition over the `src` columns."""
    node = signature.tree if node is None else node
    if isinstance(node, Name):
        return selection_sql(signature.selections[node.name], dialect=dialect)
    if isinstance(node, Not):
        return f"NOT ({condition_sql(signature, node.child, dialect)})"
    parts = [condition_sql(signature, c, dialect) for c in node.children]
    return all_of(parts) if isinstance(node, And) else any_of(parts)
