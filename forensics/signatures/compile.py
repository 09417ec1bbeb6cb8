"""Compile the whole catalog into one SQL statement that classifies every entry in one pass.

Usage:
  1. ``classification_sql(catalog, where)`` returns a SELECT over ``log_entries`` that yields one
     row per (entry, matching signature), shaped like the ``signature_matches`` table.
  2. The statement scans once. A single RE2 alternation of every signature's message tests
     (plus the few tests that need no message, such as ``http_status = 503``) gates the rows;
     only the rows through the gate have each signature's full condition evaluated. The gate
     is a superset by construction (see ``_superset``), so gating never loses a match.
  3. The first matching signature in catalog precedence order is the primary one.

SQL stays in functions any analytical engine has (CASE, COALESCE, regex match / extract,
UNNEST of an array, JSON object). The templates are the constants of ``Dialect`` so that a
BigQuery backend only swaps them (REGEXP_CONTAINS, STRPOS, SAFE_CAST, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from forensics.schema import SEVERITY_LEVELS
from forensics.signatures.condition import And, Name, Node, Not, Or
from forensics.signatures.keywords import (
    MIN_KEYWORD,
    Need,
    chain_regex,
    keyword_chain,
    re_escape,
)
from forensics.signatures.matchtext import (
    FAILURE_TEXT_SQL,
    HAS_ERROR_FIELDS_SQL,
    MATCH_TEXT_SQL,
    exception_lines_sql,
)
from forensics.signatures.model import Predicate, Selection, Signature

if TYPE_CHECKING:
    from forensics.signatures.catalog import Catalog

__all__ = [
    "LEVEL_SQL",
    "MATCH_TEXT_SQL",
    "Dialect",
    "classification_sql",
    "condition_sql",
    "literal",
    "regex_for",
]


class Dialect:
    """DuckDB spellings of the few functions the compiled SQL uses."""

    regex_match = "regexp_matches({field}, {pattern})"
    regex_extract = "regexp_extract({field}, {pattern}, 1)"
    contains = "contains({field}, {value})"
    startswith = "starts_with({field}, {value})"
    endswith = "ends_with({field}, {value})"
    try_cast = "TRY_CAST({expr} AS {type})"
    json_object = "json_object({pairs})"
    types: ClassVar[dict[str, str]] = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR"}


D = Dialect


def literal(value: object) -> str:
    """A SQL literal: numbers as-is, strings single-quoted with quotes doubled."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# The level an entry states: its severity, or for DEFAULT entries (plain stderr lines) the first
# level word the text carries ("- INFO -", "[ERROR]", "| WARNING |"); NULL when neither says.
_LEVEL_WORDS = {**SEVERITY_LEVELS, "WARN": 400, "FATAL": 600}
_LEVEL_RE = (
    r"(?:^|[\s\[|(])(DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL|ALERT|EMERGENCY)"
    r"(?:[\s\]|:)]|$)"
)


def level_sql(text: str) -> str:
    """SQL for the stated level of an entry whose match text is the expression ``text``."""
    cases = " ".join(
        f"WHEN {literal(word)} THEN {num}" for word, num in _LEVEL_WORDS.items() if num > 0
    )
    extract = D.regex_extract.format(field=text, pattern=literal(_LEVEL_RE))
    return f"CASE WHEN severity_number > 0 THEN severity_number ELSE CASE {extract} {cases} END END"


LEVEL_SQL = level_sql("m")

# Columns a condition may reference, as the SQL that computes them from the `src` rows.
_COLUMN_SQL = {
    "message": "m",
    "severity": "severity_number",
    "level": LEVEL_SQL,
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


def _keyword_guard(regex: str) -> list[str]:
    """contains() tests on the lowercased match text that the regex needs to hold.

    A regex without a literal prefix costs a DFA walk over every byte; memmem-fast contains()
    on the keywords it requires spares that walk for almost every row.
    """
    tests = []
    for need in keyword_chain(regex) or []:
        anyof = [D.contains.format(field="lm", value=literal(k)) for k in sorted(need.keywords)]
        tests.append(anyof[0] if len(anyof) == 1 else "(" + " OR ".join(anyof) + ")")
    return tests


def _text_test(column: str, modifier: str, value: object) -> str:
    if modifier == "re":
        test = D.regex_match.format(field=column, pattern=literal(value))
        guard = _keyword_guard(str(value)) if column == "m" else []
        return all_of([*guard, test]) if guard else test
    template = {"contains": D.contains, "startswith": D.startswith, "endswith": D.endswith}.get(
        modifier
    )
    if template:
        return template.format(field=column, value=literal(value))
    return f"{column} = {literal(value)}"


def predicate_sql(predicate: Predicate, columns: dict[str, str] | None = None) -> str:
    column = (columns or _COLUMN_SQL)[predicate.field]
    if predicate.kind == "text":
        tests = [_text_test(column, predicate.modifier, v) for v in predicate.values]
    elif predicate.modifier == "eq" and len(predicate.values) > 1:
        tests = [f"{column} IN ({', '.join(literal(v) for v in predicate.values)})"]
    else:
        op = _COMPARE[predicate.modifier]
        tests = [f"{column} {op} {literal(v)}" for v in predicate.values]
    return tests[0] if len(tests) == 1 else any_of(tests)


def _cost(predicate: Predicate) -> int:
    """Cheap tests first, so a selection's regexes run only on rows its other tests let by."""
    if predicate.field == "level":
        return 3
    if predicate.kind != "text":
        return 0
    return 2 if predicate.modifier == "re" else 1


def selection_sql(selection: Selection, columns: dict[str, str] | None = None) -> str:
    """All of a selection's tests; unknown (NULL column) counts as no."""
    ordered = sorted(selection.predicates, key=_cost)
    return all_of([predicate_sql(p, columns) for p in ordered])


def condition_sql(signature: Signature, node: Node | None = None) -> str:
    """The boolean SQL for a signature's condition over the `src` columns."""
    node = signature.tree if node is None else node
    if isinstance(node, Name):
        return selection_sql(signature.selections[node.name])
    if isinstance(node, Not):
        return f"NOT ({condition_sql(signature, node.child)})"
    parts = [condition_sql(signature, c) for c in node.children]
    return all_of(parts) if isinstance(node, And) else any_of(parts)


# Before the gate there is no match text yet: tests there read the raw message, and a regex
# test also reads the payload's JSON text when it may hold error fields (see matchtext).
_RAW_MESSAGE = "coalesce(message, '')"
_GATE_COLUMNS = {**_COLUMN_SQL, "message": _RAW_MESSAGE, "level": level_sql(_RAW_MESSAGE)}

# A superset of a condition as disjuncts: ("kw", keyword regex for the raw message, any case),
# ("re", regex on the raw message) or ("sql", any other test). ("sql", "TRUE") is unbounded.
Disjuncts = list[tuple[str, str]]
_UNBOUNDED: Disjuncts = [("sql", "TRUE")]


def _message_disjuncts(predicate: Predicate) -> Disjuncts:
    found: Disjuncts = []
    for value in predicate.values:
        text = str(value)
        if predicate.modifier == "re":
            chain = keyword_chain(text)
        else:
            keywords = frozenset([text.lower()])
            chain = [Need(keywords, False)] if len(text) >= MIN_KEYWORD else None
        if chain:
            found.append(("kw", chain_regex(chain)))
        else:
            found.append(
                ("re", regex_for(Predicate(predicate.field, predicate.modifier, (value,))))
            )
    return found


def _weight(disjuncts: Disjuncts) -> int:
    return sum({"kw": 0, "sql": 1, "re": 10}[kind] for kind, _ in disjuncts)


def _superset(signature: Signature, node: Node) -> Disjuncts:
    """Disjuncts one of which holds whenever the condition holds (the message is a superset
    of the match text, so testing it keeps the guarantee)."""
    if isinstance(node, Name):
        selection = signature.selections[node.name]
        preds = [p for p in selection.predicates if p.field == "message"]
        if preds:  # every test of a selection must hold: its cheapest message test bounds it
            return min((_message_disjuncts(p) for p in preds), key=_weight)
        return [("sql", selection_sql(selection, _GATE_COLUMNS))]
    if isinstance(node, Not):
        return _UNBOUNDED
    parts = [_superset(signature, child) for child in node.children]
    if isinstance(node, Or):
        merged = [d for p in parts for d in p]
        return _UNBOUNDED if _UNBOUNDED[0] in merged else merged
    bounded = [p for p in parts if _UNBOUNDED[0] not in p]
    return min(bounded, key=_weight) if bounded else _UNBOUNDED


def gate_sql(signatures: list[Signature]) -> str:
    """A cheap superset of "some signature matches", over the raw columns.

    One case-insensitive scan for every keyword the catalog's regexes need, plus the few
    tests that need no message (``http_status = 503``); regexes whose keywords cannot be
    derived are added as they are (correct, only slower).
    """
    found: dict[str, list[str]] = {"kw": [], "re": [], "sql": []}
    for sig in signatures:
        for kind, text in _superset(sig, sig.tree):
            if text not in found[kind]:
                found[kind].append(text)
    tests = []
    patterns = []
    if found["kw"]:
        patterns.append("(?i)" + "|".join(sorted(found["kw"])))
    if found["re"]:
        patterns.append("|".join(found["re"]))
    for pattern in patterns:
        tests.append(D.regex_match.format(field=_RAW_MESSAGE, pattern=literal(pattern)))
        in_payload = D.regex_match.format(field="json_payload", pattern=literal(pattern))
        tests.append(f"({HAS_ERROR_FIELDS_SQL} AND {in_payload})")
    tests.extend(found["sql"])
    return " OR ".join(tests) if tests else "FALSE"


def params_sql(signature: Signature) -> str:
    """A JSON object of the signature's extracted parameters (NULL when it has none)."""
    if not signature.extract:
        return "NULL"
    pairs = []
    for ext in signature.extract:
        column = _COLUMN_SQL[ext.field]
        value = (
            f"nullif({D.regex_extract.format(field=column, pattern=literal(ext.regex))}, '')"
            if ext.regex
            else column
        )
        typed = D.try_cast.format(expr=value, type=D.types[ext.type])
        pairs.append(f"{literal(ext.name)}, {typed}")
    return D.json_object.format(pairs=", ".join(pairs))


SOURCE_COLUMNS = (
    '"timestamp", log_name, insert_id, service, revision, instance_id, trace, severity_number, '
    "resource_type, log_id, http_status, http_url, http_latency_ms"
)


def classification_sql(catalog: Catalog, where: str = "TRUE") -> str:
    """One SELECT yielding signature_matches rows for the log_entries rows passing ``where``."""
    sigs = catalog.active()
    if not sigs:
        return "SELECT * FROM signature_matches WHERE FALSE"
    flags = ",\n        ".join(
        f"CASE WHEN {condition_sql(s)} THEN {literal(s.id)} END AS s{i}" for i, s in enumerate(sigs)
    )
    names = ", ".join(f"s{i}" for i in range(len(sigs)))
    params = " ".join(f"WHEN {literal(s.id)} THEN {params_sql(s)}" for s in sigs)
    return f"""
WITH gated AS (
    SELECT {SOURCE_COLUMNS}, message, json_payload
    FROM log_entries
    WHERE ({where}) AND ({gate_sql(sigs)})
), texted AS (
    SELECT *, {FAILURE_TEXT_SQL} AS ft FROM gated
), src AS (
    SELECT *, {exception_lines_sql("ft")} AS m FROM texted
), lowered AS MATERIALIZED (
    SELECT *, lower(m) AS lm FROM src
), flagged AS (
    SELECT *,
        {flags}
    FROM lowered
), hits AS (
    SELECT flagged.*, coalesce({names}) AS primary_signature, u.signature
    FROM flagged CROSS JOIN UNNEST([{names}]) AS u(signature)
    WHERE u.signature IS NOT NULL
)
SELECT
    "timestamp", log_name, insert_id, signature,
    signature = primary_signature AS is_primary,
    service, revision, instance_id, trace,
    CAST(CASE signature {params} END AS JSON) AS params,
    {literal(catalog.version)} AS catalog_version
FROM hits
"""
