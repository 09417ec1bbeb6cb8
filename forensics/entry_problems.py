"""Name what is wrong with a LogEntry, exactly, from the JSON type of each field.

forensics.normalize reads every entry with one json_transform and lets through, with cheap
checks on the values (``plain_*``), the entries that are surely well formed. Only the rest (a
handful in a real export) pay for a second parse: ``json_type`` over ``TYPED_PATHS``, from
which ``first_problem_case`` and ``problem_case`` name the first thing wrong, field by field,
the way a person fixing the export needs it. Every ``plain_*`` check passes only values that
the exact checks would also pass, so both ways give one answer.
"""

from __future__ import annotations

__all__ = [
    "RFC3339",
    "TYPED_PATHS",
    "first_problem_case",
    "plain_object",
    "plain_string",
    "plain_time",
    "present",
    "problem_case",
    "typed_paths_sql",
]

# Fields whose JSON type decides validity (json_transform alone cannot tell "x" from {"x":1}):
# read in one json_type call over a path list. '$' is the entry itself.
TYPED_PATHS = (
    "$",
    "resource",
    "resource.labels",
    "labels",
    "httpRequest",
    "textPayload",
    "jsonPayload",
    "protoPayload",
    "logName",
    "timestamp",
    "receiveTimestamp",
    "insertId",
    "trace",
    "spanId",
    "httpRequest.status",
    "httpRequest.latency",
)
_T = {path: i + 1 for i, path in enumerate(TYPED_PATHS)}  # DuckDB lists are 1-based


def typed_paths_sql() -> str:
    """The DuckDB list literal of TYPED_PATHS as JSON paths."""
    return "[" + ", ".join("'$'" if p == "$" else f"'$.{p}'" for p in TYPED_PATHS) + "]"


def _t(path: str) -> str:
    """The field's JSON type name: NULL when absent, 'NULL' for a JSON null."""
    return f"t[{_T[path]}]"


def present(path: str) -> str:
    """True when the field is there and not a JSON null."""
    return f"coalesce({_t(path)} <> 'NULL', false)"


_TYPE_WORDS = (
    "CASE {t} WHEN 'VARCHAR' THEN 'a string' WHEN 'OBJECT' THEN 'an object' "
    "WHEN 'ARRAY' THEN 'an array' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'NULL' THEN 'null' "
    "ELSE 'a number' END"
)


def _type_problem(path: str, json_types: tuple[str, ...], expected: str) -> str:
    allowed = ", ".join(f"'{t}'" for t in json_types)
    got = _TYPE_WORDS.format(t=_t(path))
    return (
        f"WHEN {present(path)} AND {_t(path)} NOT IN ({allowed}) "
        f"THEN 'field {path}: expected {expected}, got ' || {got}"
    )


# RFC 3339 date-time (section 5.6): four-digit year, 'T', seconds, optional fraction, and a zone.
RFC3339 = (
    r"'[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})'"
)


def _first_problems(field: str) -> str:
    """WHEN clauses naming what is wrong with an RFC 3339 field that is present."""
    col = f'"{field}"'
    return f"""
            WHEN {_t(field)} <> 'VARCHAR' OR NOT regexp_full_match({col}, {RFC3339})
                THEN 'field {field}: not an RFC 3339 time: ' || left({col}, 60)
            WHEN left({col}, 4) = '0000'
                THEN 'field {field}: year 0000 is outside 0001-9999'
            WHEN NOT ends_with(upper({col}), 'Z') AND (
                    CAST(substr({col}, -5, 2) AS INTEGER) > 23
                    OR CAST(right({col}, 2) AS INTEGER) > 59)
                THEN 'field {field}: offset ' || right({col}, 6)
                    || ' is outside -23:59..+23:59'"""


def _status_problem() -> str:
    status = _t("httpRequest.status")
    return f"""
            WHEN {present("httpRequest.status")} AND NOT (
                    {status} IN ('UBIGINT', 'BIGINT')
                    OR ({status} = 'VARCHAR' AND regexp_full_match(status, '-?[0-9]{{1,9}}')))
                THEN 'field httpRequest.status: expected an integer, got '
                    || CASE WHEN {status} IN ('VARCHAR', 'DOUBLE', 'UBIGINT', 'BIGINT')
                            THEN left(status, 40) ELSE {_TYPE_WORDS.format(t=status)} END"""


def _latency_problem() -> str:
    latency = _t("httpRequest.latency")
    return rf"""
            WHEN {present("httpRequest.latency")} AND NOT (
                    {latency} = 'VARCHAR'
                    AND regexp_full_match(trim(latency), '-?[0-9]+(\.[0-9]+)?s'))
                THEN 'field httpRequest.latency: expected a duration such as "0.25s", got '
                    || CASE WHEN {latency} = 'VARCHAR' THEN left(latency, 40)
                            ELSE {_TYPE_WORDS.format(t=latency)} END"""


def first_problem_case() -> str:
    """The CASE naming the first problem with the entry as a whole, its name and its times
    (NULL for an entry that passed the plain checks, ``ok``). Two CASEs: one would pass
    DuckDB's limit on nested expression depth."""
    return f"""
        CASE
            WHEN ok THEN NULL
            WHEN given_problem IS NOT NULL THEN given_problem
            WHEN NOT valid THEN 'not valid JSON (truncated or malformed)'
            WHEN t[1] <> 'OBJECT'
                THEN 'not a LogEntry object (' || {_TYPE_WORDS.format(t="t[1]")} || ')'
            WHEN NOT {present("logName")} THEN 'field logName: missing'
            {_type_problem("logName", ("VARCHAR",), "a string")}
            WHEN NOT {present("timestamp")} THEN 'field timestamp: missing'
            {_first_problems("timestamp")}
            WHEN ts IS NULL THEN 'field timestamp: not an RFC 3339 time: ' || left("timestamp", 60)
            WHEN NOT {present("receiveTimestamp")} THEN NULL
            {_first_problems("receiveTimestamp")}
            WHEN rts IS NULL
                THEN 'field receiveTimestamp: not an RFC 3339 time: ' || left(receiveTimestamp, 60)
        END"""


def problem_case() -> str:
    """The CASE naming the entry's first problem (NULL: none), after ``first_problem``."""
    return f"""
        CASE
            WHEN ok THEN NULL
            WHEN first_problem IS NOT NULL THEN first_problem
            WHEN sev_num IS NULL
                THEN 'field severity: unknown LogSeverity ' || left(severity, 40)
            {_type_problem("insertId", ("VARCHAR",), "a string")}
            {_type_problem("trace", ("VARCHAR",), "a string")}
            {_type_problem("spanId", ("VARCHAR",), "a string")}
            {_type_problem("resource", ("OBJECT",), "an object")}
            {_type_problem("resource.labels", ("OBJECT",), "an object")}
            {_type_problem("labels", ("OBJECT",), "an object")}
            {_type_problem("httpRequest", ("OBJECT",), "an object")}
            {_status_problem()}
            {_latency_problem()}
            {_type_problem("textPayload", ("VARCHAR",), "a string")}
            {_type_problem("jsonPayload", ("OBJECT",), "an object")}
            {_type_problem("protoPayload", ("OBJECT",), "an object")}
        END"""


# The plain checks: cheap tests on the values json_transform read (every scalar as text), each
# passing only what the exact checks above pass too; anything else goes to those.


def plain_string(col: str) -> str:
    """True when ``col`` is absent or surely was a JSON string: json_transform writes a number,
    boolean, object or array as its JSON text, so text that reads as one is checked exactly.

    The first character is tested on bytes (a prefix, and a digit as ``'0' <= col < ':'``):
    ascii() decodes the whole string to read its first character, a scan of every textPayload.
    """
    return f"""({col} IS NULL OR CASE
            WHEN starts_with({col}, '{{') OR starts_with({col}, '[') THEN NOT json_valid({col})
            WHEN starts_with({col}, '-') OR ({col} >= '0' AND {col} < ':')
                THEN TRY_CAST({col} AS DOUBLE) IS NULL
            ELSE {col} NOT IN ('true', 'false') END)"""


def plain_time(col: str, cast: str) -> str:
    """True when ``col`` is an RFC 3339 UTC time ('Z') that ``cast`` (its TIMESTAMPTZ) read."""
    return (
        f"({cast} IS NOT NULL AND ends_with(\"{col}\", 'Z') "
        f'AND regexp_full_match("{col}", {RFC3339}) AND NOT starts_with("{col}", \'0000\'))'
    )


def plain_object(col: str) -> str:
    """True when the JSON text ``col`` (from a JSON-typed field) is absent or an object."""
    return f"({col} IS NULL OR starts_with({col}, '{{'))"
