"""Compile the whole catalog into one SQL statement that classifies every entry in one pass.

Usage:
  1. ``classification_sql(catalog, where)`` returns a SELECT over ``log_entries`` that yields one
     row per (entry, matching signature), shaped like the ``signature_matches`` table.
  2. The rows in scope first go through ``splittrace.split_traceback_ctes``: the chunks of a
     traceback Cloud Run split into several entries are joined onto the run's last chunk (the
     others read as empty), so the failure is matched once, across the split.
     The statement scans once. A single RE2 alternation of every signature's message tests
     (plus the few tests that need no message, such as ``http_status = 503``) gates the rows;
     only the rows through the gate have each signature's full condition evaluated. The gate
     is a superset by construction (see ``_superset``), so gating never loses a match. In
     DuckDB its message regex runs once per distinct message (``message_gate_sql``; request
     entries, whose URL and latency rarely repeat, row by row): logs repeat their lines, so
     the real-shaped day's 838,040 other messages are 1,784 distinct ones (its statement 1.76
     -> 1.33-1.48 CPU s; the plain corpus, 81k distinct of 518k, 1.11 -> 1.08-1.10).
  3. In DuckDB the match text and the conditions are evaluated once per distinct combination
     of the columns they read (the message, the payload when it may hold error fields, and
     ``flag_columns``: severity, status, ...), and the matches are hash-joined back onto the
     gated rows: a failure repeats its lines, so the plain 1M-entry corpus's 45,644 gated rows
     are 4,244 combinations (the statement 2.2 -> 1.4 CPU s), the real-shaped day's 185,935
     are 262 (the match text per combination, not per gated row: 2.1 -> 1.7 CPU s).
  4. The first matching signature in catalog precedence order is the primary one.

Cost: O(entries in scope) for the scans, a hash aggregate of the messages, the traceback chunk
test (one regex each per entry) and the gate's tests of columns other than the message; the
gate's message regex O(distinct messages); O(gated rows) for the hash join back; O(distinct
combinations) for the match text and O(distinct combinations x signatures) for the conditions.
Planning is a fixed cost (~0.25 CPU s for the 45-signature catalog's 130 kB statement), paid
once per classified run.

SQL stays in functions any analytical engine has (CASE, COALESCE, regex match / extract,
UNNEST of an array, JSON object). Every engine-specific spelling comes from a ``Dialect``
(``dialect.py``): ``DUCKDB`` for the local store (the default), ``BIGQUERY`` for GoogleSQL. The
statement reads the columns of ``contract.SOURCE_CONTRACT`` from its source relation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forensics.errors import ConfigError
from forensics.signatures.condition import Name, Node, Not, Or
from forensics.signatures.contract import SOURCE_CONTRACT
from forensics.signatures.dialect import BIGQUERY, DUCKDB, Dialect
from forensics.signatures.keywords import (
    MIN_KEYWORD,
    Need,
    chain_regex,
    keyword_chain,
)
from forensics.signatures.levels import level_sql
from forensics.signatures.matchtext import (
    MATCH_TEXT_SQL,
    exception_lines_sql,
    failure_text_sql,
    has_error_fields_sql,
)
from forensics.signatures.model import Predicate, Signature
from forensics.signatures.predicates import (
    column_sql,
    condition_sql,
    literal,
    regex_for,
    selection_sql,
)
from forensics.signatures.splittrace import split_traceback_ctes

if TYPE_CHECKING:
    from forensics.signatures.catalog import Catalog

__all__ = [
    "BIGQUERY",
    "DUCKDB",
    "MATCH_TEXT_SQL",
    "Dialect",
    "classification_sql",
    "condition_sql",
    "literal",
    "regex_for",
]


# Before the gate there is no match text yet: tests there read the raw message, and a regex
# test also reads the payload's JSON text when it may hold error fields (see matchtext).
_RAW_MESSAGE = "coalesce(message, '')"


def _gate_columns(dialect: Dialect) -> dict[str, str]:
    raw_level = level_sql(_RAW_MESSAGE, dialect)
    return {**column_sql(dialect), "message": _RAW_MESSAGE, "level": raw_level}


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


def _superset(signature: Signature, node: Node, dialect: Dialect) -> Disjuncts:
    """Disjuncts one of which holds whenever the condition holds (the message is a superset
    of the match text, so testing it keeps the guarantee)."""
    if isinstance(node, Name):
        selection = signature.selections[node.name]
        preds = [p for p in selection.predicates if p.field == "message"]
        if preds:  # every test of a selection must hold: its cheapest message test bounds it
            return min((_message_disjuncts(p) for p in preds), key=_weight)
        return [("sql", selection_sql(selection, _gate_columns(dialect), dialect))]
    if isinstance(node, Not):
        return _UNBOUNDED
    parts = [_superset(signature, child, dialect) for child in node.children]
    if isinstance(node, Or):
        merged = [d for p in parts for d in p]
        return _UNBOUNDED if _UNBOUNDED[0] in merged else merged
    bounded = [p for p in parts if _UNBOUNDED[0] not in p]
    return min(bounded, key=_weight) if bounded else _UNBOUNDED


def gate_sql(
    signatures: list[Signature], dialect: Dialect = DUCKDB, message: str | None = _RAW_MESSAGE
) -> str:
    """A cheap superset of "some signature matches", over the raw columns.

    One case-insensitive scan for every keyword the catalog's regexes need, plus the few
    tests that need no message (``http_status = 503``); regexes whose keywords cannot be
    derived are added as they are (correct, only slower). ``message=None`` leaves the tests of
    the message out (``message_gate_sql`` has them).
    """
    tests = []
    for pattern in _gate_patterns(signatures, dialect):
        quoted = dialect.literal(pattern)
        if message is not None:
            tests.append(dialect.regex_match.format(field=message, pattern=quoted))
        in_payload = dialect.regex_match.format(field="json_payload", pattern=quoted)
        tests.append(f"({has_error_fields_sql(dialect)} AND {in_payload})")
    tests.extend(_gate_found(signatures, dialect)["sql"])
    return " OR ".join(tests) if tests else "FALSE"


def message_gate_sql(
    signatures: list[Signature], text: str, dialect: Dialect = DUCKDB
) -> str | None:
    """The gate's tests of the raw message, on the text expression ``text`` (None when the
    catalog has none)."""
    tests = [
        dialect.regex_match.format(field=text, pattern=dialect.literal(pattern))
        for pattern in _gate_patterns(signatures, dialect)
    ]
    return " OR ".join(tests) if tests else None


def _gate_found(signatures: list[Signature], dialect: Dialect) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"kw": [], "re": [], "sql": []}
    for sig in signatures:
        for kind, text in _superset(sig, sig.tree, dialect):
            if text not in found[kind]:
                found[kind].append(text)
    return found


def _gate_patterns(signatures: list[Signature], dialect: Dialect) -> list[str]:
    """The gate's RE2 patterns: each raw message (and error payload) is tested against them."""
    found = _gate_found(signatures, dialect)
    patterns = []
    if found["kw"]:
        patterns.append("(?i)" + "|".join(sorted(found["kw"])))
    if found["re"]:
        patterns.append("|".join(found["re"]))
    return patterns


def check_extract_groups(signatures: list[Signature]) -> None:
    """ConfigError naming the signature whose extract regex has not exactly one capture group.

    BigQuery's REGEXP_EXTRACT refuses a pattern with more than one group and returns the whole
    match for one with none; DuckDB's takes group 1. One group means the same value in both.
    """
    from forensics.signatures.validators import capture_groups, one_group_problem

    for sig in signatures:
        for ext in sig.extract:
            if ext.regex is None:
                continue
            groups = capture_groups(ext.regex)
            if groups != 1:
                where = f"{sig.path or sig.id}: extract.{ext.name}"
                raise ConfigError(f"{where} ({sig.id}): {one_group_problem(groups)}")


def params_sql(signature: Signature, dialect: Dialect = DUCKDB) -> str:
    """A JSON object of the signature's extracted parameters (NULL when it has none)."""
    if not signature.extract:
        return "NULL"
    columns = column_sql(dialect)
    lit = dialect.literal
    pairs = []
    for ext in signature.extract:
        column = columns[ext.field]
        value = (
            f"nullif({dialect.regex_extract.format(field=column, pattern=lit(ext.regex))}, '')"
            if ext.regex
            else column
        )
        typed = dialect.try_cast.format(expr=value, type=dialect.types[ext.type])
        pairs.append(f"{lit(ext.name)}, {typed}")
    return dialect.params_object.format(pairs=", ".join(pairs))


def classification_sql(
    catalog: Catalog,
    where: str = "TRUE",
    dialect: Dialect = DUCKDB,
    source: str = "log_entries",
    carry: tuple[str, ...] = (),
    per_run: bool = False,
) -> str:
    """One SELECT yielding signature_matches rows for the ``source`` rows passing ``where``.

    ``source`` is a table, view or parenthesized subquery with the ``SOURCE_CONTRACT`` columns;
    ``carry`` names further source columns passed through to each output row (after
    ``catalog_version``), so that a remote collector can bring the whole entry home in the same
    scan. ``per_run``: a split traceback's chunks join only within their ingest run (``carry``
    must hold ingest_id), as when each run is classified alone.
    """
    sigs = catalog.active()
    if not sigs:
        return "SELECT * FROM signature_matches WHERE FALSE"
    if dialect is BIGQUERY:
        check_extract_groups(sigs)
    lit, q = dialect.literal, dialect.ident
    flags = ",\n        ".join(
        f"CASE WHEN {condition_sql(s, dialect=dialect)} THEN {lit(s.id)} END AS s{i}"
        for i, s in enumerate(sigs)
    )
    names = ", ".join(f"s{i}" for i in range(len(sigs)))
    params = " ".join(f"WHEN {lit(s.id)} THEN {params_sql(s, dialect)}" for s in sigs)
    read = ", ".join(q(c.name) for c in SOURCE_CONTRACT)
    extra = "".join(f", {q(c)}" for c in carry if c not in {x.name for x in SOURCE_CONTRACT})
    hits = dialect.unnest_hits.format(items=names, var="signature")
    # a split traceback's chunks are joined first (splittrace); in DuckDB the message tests of
    # the gate run once per distinct message
    message_gate = message_gate_sql(sigs, "text", dialect) if dialect.distinct_flags else None
    gate = gate_sql(sigs, dialect, message=None if message_gate else _RAW_MESSAGE)
    scope = split_traceback_ctes(
        f"{read}{extra}", source, where, gate, dialect, message_gate, per_run
    )
    texts = f"""
WITH {scope}, texted AS (
    SELECT *, {failure_text_sql(dialect)} AS ft FROM gated
), src AS (
    SELECT *, {exception_lines_sql("ft", dialect)} AS m FROM texted
)"""
    output = f"""
SELECT
    {q("timestamp")}, log_name, insert_id, signature,
    signature = primary_signature AS is_primary,
    service, revision, instance_id, trace,
    {dialect.params_column.format(expr=f"CASE signature {params} END")} AS params,
    {lit(catalog.version)} AS catalog_version{"".join(f", {q(c)}" for c in carry)}
FROM hits
"""
    if not dialect.distinct_flags:
        return f"""{texts}, lowered AS {dialect.materialized}(
    SELECT *, lower(m) AS lm FROM src
), flagged AS (
    SELECT *,
        {flags}
    FROM lowered
), hits AS (
    SELECT flagged.*, coalesce({names}) AS primary_signature, signature
    FROM flagged {hits}
){output}"""
    # The match text is a function of the message, of the payload when it may hold error fields
    # and of the severity (matchtext), so it is built once per distinct combination of those
    # and of the other columns the flags read, inside the combinations' table, not per row.
    keys = ["message", "error_payload", "severity_number"]
    keys += [k for k in flag_columns(sigs) if k not in ("m", *keys)]
    listed = ", ".join(f"{k} AS json_payload" if k == "error_payload" else k for k in keys)
    inputs = ", ".join(f"{'json_payload' if k == 'error_payload' else k} AS {k}_" for k in keys)
    same = " AND ".join(f"e.{k} IS NOT DISTINCT FROM h.{k}_" for k in keys)
    payload = f"CASE WHEN {has_error_fields_sql(dialect)} THEN json_payload END"
    return f"""
WITH {scope}, entries AS {dialect.materialized}(
    SELECT *, {payload} AS error_payload FROM gated
), texted AS (
    SELECT *, {failure_text_sql(dialect)} AS ft FROM (SELECT DISTINCT {listed} FROM entries)
), lowered AS {dialect.materialized}(
    SELECT *, lower(m) AS lm
    FROM (SELECT *, {exception_lines_sql("ft", dialect)} AS m FROM texted)
), flagged AS (
    SELECT *,
        {flags}
    FROM lowered
), matched AS (
    SELECT {inputs}, m, coalesce({names}) AS primary_signature, signature
    FROM flagged {hits}
), hits AS (
    SELECT e.*, h.m, h.primary_signature, h.signature
    FROM entries AS e JOIN matched AS h ON {same}
){output}"""


def flag_columns(signatures: list[Signature], dialect: Dialect = DUCKDB) -> list[str]:
    """The ``src`` columns the signatures' conditions read (always ``m``): the flags are a
    function of these alone, so they can be computed once per distinct combination."""
    columns = column_sql(dialect)
    needed = {"m"}
    for sig in signatures:
        for selection in sig.selections.values():
            for predicate in selection.predicates:
                if predicate.field == "level":
                    needed.add("severity_number")
                else:
                    needed.add(columns[predicate.field])
    return sorted(needed)
