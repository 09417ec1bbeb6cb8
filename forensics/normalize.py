"""Turn raw LogEntry JSON text into store rows in one vectorized DuckDB statement.

Usage:
  1. Register a relation named ``batch`` with columns ``line_no BIGINT`` and ``line VARCHAR``
     (one LogEntry JSON object per row; ``line_no`` is what error messages cite; blank lines
     are skipped).
  2. Run ``normalize_sql()``: it returns one row per input row with every ``log_entries`` column
     (except ``source`` and ``ingest_id``) plus ``problem``, which is NULL for a good entry and
     otherwise says which field is wrong and why.

Everything happens inside DuckDB (no per-row Python): each entry is parsed once with a list of
JSON paths, then typed with TRY_CAST so that a value of the wrong type becomes a named problem
instead of an exception that would lose the whole batch.
"""

from __future__ import annotations

import json

from forensics.identity import PENDING_SQL
from forensics.schema import SEVERITY_LEVELS

__all__ = ["JSON_MESSAGE_KEYS", "normalize_sql"]

# jsonPayload keys that hold the display text, in the order Cloud Logging's UI and common
# Python/Go loggers use them.
JSON_MESSAGE_KEYS = (
    "message",
    "msg",
    "text",
    "error",
    "err",
    "exception",
    "event",
    "log",
    "detail",
)

# The typed shape read from each entry in one json_transform (one parse). Scalars come back as
# text whatever their JSON type; payloads and labels stay JSON text.
_SHAPE = {
    "timestamp": "VARCHAR",
    "receiveTimestamp": "VARCHAR",
    "severity": "VARCHAR",
    "logName": "VARCHAR",
    "insertId": "VARCHAR",
    "resource": {
        "type": "VARCHAR",
        "labels": {
            key: "VARCHAR"
            for key in (
                "project_id",
                "service_name",
                "database_id",
                "connector_name",
                "job_name",
                "revision_name",
                "location",
                "region",
                "zone",
            )
        },
    },
    "labels": "JSON",
    "trace": "VARCHAR",
    "spanId": "VARCHAR",
    "httpRequest": {
        "status": "VARCHAR",
        "requestMethod": "VARCHAR",
        "requestUrl": "VARCHAR",
        "latency": "VARCHAR",
    },
    "textPayload": "VARCHAR",
    "jsonPayload": "JSON",
    "protoPayload": "JSON",
}

# Fields whose JSON type decides validity (json_transform alone cannot tell "x" from {"x":1}):
# read in one json_type call over a path list. '$' is the entry itself.
_TYPED = (
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
_T = {path: i + 1 for i, path in enumerate(_TYPED)}  # DuckDB lists are 1-based

_PROTO_TEXT = ("$.methodName", "$.status.message", "$.resourceName")
_ANSI = r"chr(27) || '\[[0-9;?]*[A-Za-z]'"
_BLANK = "' ' || chr(9) || chr(10) || chr(13)"


def _t(path: str) -> str:
    """The field's JSON type name: NULL when absent, 'NULL' for a JSON null."""
    return f"t[{_T[path]}]"


def _present(path: str) -> str:
    return f"coalesce({_t(path)} <> 'NULL', false)"


_TYPE_WORDS = (
    "CASE {t} WHEN 'VARCHAR' THEN 'a string' WHEN 'OBJECT' THEN 'an object' "
    "WHEN 'ARRAY' THEN 'an array' WHEN 'BOOLEAN' THEN 'a boolean' ELSE 'a number' END"
)


def _type_problem(path: str, json_types: tuple[str, ...], expected: str) -> str:
    allowed = ", ".join(f"'{t}'" for t in json_types)
    got = _TYPE_WORDS.format(t=_t(path))
    return (
        f"WHEN {_present(path)} AND {_t(path)} NOT IN ({allowed}) "
        f"THEN 'field {path}: expected {expected}, got ' || {got}"
    )


# The few fields the validity check needs; the slim first pass reads only these.
_CHECK_SHAPE = {
    "timestamp": "VARCHAR",
    "receiveTimestamp": "VARCHAR",
    "severity": "VARCHAR",
    "logName": "VARCHAR",
    "insertId": "VARCHAR",
    "httpRequest": {"status": "VARCHAR", "latency": "VARCHAR"},
}

# An entry's identity part 2: its insertId, or, when it has none, a placeholder that
# forensics.identity.fill_identities replaces with a hash of the entry's canonical form (parsed
# values, sorted keys, the timestamp left to part 3), so the same entry hashes alike in any
# export format, key order or time zone.
_INSERT_ID = f"CASE WHEN insertId IS NOT NULL THEN insertId WHEN valid THEN {PENDING_SQL} END"

# RFC 3339 date-time (section 5.6): four-digit year, 'T', seconds, optional fraction, and a zone.
_RFC3339 = (
    r"'[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})'"
)


def _first_problems(field: str) -> str:
    """WHEN clauses naming what is wrong with an RFC 3339 field that is present."""
    col = f'"{field}"'
    return f"""
            WHEN {_t(field)} <> 'VARCHAR' OR NOT regexp_full_match({col}, {_RFC3339})
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
            WHEN {_present("httpRequest.status")} AND NOT (
                    {status} IN ('UBIGINT', 'BIGINT')
                    OR ({status} = 'VARCHAR' AND regexp_full_match(status, '-?[0-9]{{1,9}}')))
                THEN 'field httpRequest.status: expected an integer, got '
                    || CASE WHEN {status} IN ('VARCHAR', 'DOUBLE', 'UBIGINT', 'BIGINT')
                            THEN left(status, 40) ELSE {_TYPE_WORDS.format(t=status)} END"""


def _latency_problem() -> str:
    latency = _t("httpRequest.latency")
    return rf"""
            WHEN {_present("httpRequest.latency")} AND NOT (
                    {latency} = 'VARCHAR'
                    AND regexp_full_match(trim(latency), '-?[0-9]+(\.[0-9]+)?s'))
                THEN 'field httpRequest.latency: expected a duration such as "0.25s", got '
                    || CASE WHEN {latency} = 'VARCHAR' THEN left(latency, 40)
                            ELSE {_TYPE_WORDS.format(t=latency)} END"""


def normalize_sql(minify_raw: bool = False, check_only: bool = False) -> str:
    """Return the SELECT that normalizes the registered ``batch`` relation.

    Args:
        minify_raw: re-serialize each entry compactly for ``raw`` (pretty-printed array
            exports would otherwise store their indentation).
        check_only: return only ``line_no, problem`` and the identity (``timestamp,
            log_name, insert_id``), reading just the fields that needs (a third of the cost).
    """
    shape = json.dumps(_CHECK_SHAPE if check_only else _SHAPE)
    typed_paths = "[" + ", ".join("'$'" if p == "$" else f"'$.{p}'" for p in _TYPED) + "]"
    message_paths = "[" + ", ".join(f"'$.{k}'" for k in JSON_MESSAGE_KEYS) + "]"
    proto_paths = "[" + ", ".join(f"'{p}'" for p in _PROTO_TEXT) + "]"
    severities = ", ".join(f"'{s}'" for s in SEVERITY_LEVELS)
    severity_case = " ".join(f"WHEN '{name}' THEN {num}" for name, num in SEVERITY_LEVELS.items())
    raw_expr = "json(line)" if minify_raw else "line"
    return f"""
WITH typed AS (
    -- try(): malformed JSON yields NULL types instead of failing the batch (one parse, not two)
    SELECT line_no, line, given_problem, try(json_type(line, {typed_paths})) AS t
    FROM batch
    -- Blank lines are skipped. trim() scans the whole string, so only lines that start with
    -- white space pay for it.
    WHERE line <> '' AND (ascii(line) NOT IN (9, 10, 13, 32) OR trim(line, {_BLANK}) <> '')
), marked AS (
    SELECT *, t IS NOT NULL AS valid FROM typed
), extracted AS (
    SELECT line_no, line, given_problem, valid, t,
        unnest(CASE WHEN t[1] = 'OBJECT' THEN json_transform(line, '{shape}') END,
               recursive := true)
    FROM marked
), converted AS (
    SELECT *,
        TRY_CAST(upper("timestamp") AS TIMESTAMPTZ) AS ts,
        TRY_CAST(upper(receiveTimestamp) AS TIMESTAMPTZ) AS rts,
        upper(coalesce(severity, 'DEFAULT')) AS sev,
        TRY_CAST(status AS INTEGER) AS http_code,
        url_decode(logName) AS decoded_log_name
    FROM extracted
), timed AS (
    -- Two CASEs: one would pass DuckDB's limit on nested expression depth.
    SELECT *,
        CASE
            WHEN given_problem IS NOT NULL THEN given_problem
            WHEN NOT valid THEN 'not valid JSON (truncated or malformed)'
            WHEN t[1] <> 'OBJECT' THEN 'not a LogEntry object (a JSON ' || lower(t[1]) || ')'
            WHEN NOT {_present("logName")} THEN 'field logName: missing'
            {_type_problem("logName", ("VARCHAR",), "a string")}
            WHEN NOT {_present("timestamp")} THEN 'field timestamp: missing'
            {_first_problems("timestamp")}
            WHEN ts IS NULL THEN 'field timestamp: not an RFC 3339 time: ' || left("timestamp", 60)
            WHEN NOT {_present("receiveTimestamp")} THEN NULL
            {_first_problems("receiveTimestamp")}
            WHEN rts IS NULL
                THEN 'field receiveTimestamp: not an RFC 3339 time: ' || left(receiveTimestamp, 60)
        END AS first_problem
    FROM converted
), checked AS (
    SELECT *,
        CASE
            WHEN first_problem IS NOT NULL THEN first_problem
            WHEN sev NOT IN ({severities})
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
        END AS problem
    FROM timed
){_final_select(raw_expr, check_only, message_paths, proto_paths, severity_case)}"""


def _final_select(
    raw_expr: str, check_only: bool, message_paths: str, proto_paths: str, severity_case: str
) -> str:
    if check_only:
        return (
            '\nSELECT line_no, problem, ts AS "timestamp", decoded_log_name AS log_name, '
            f"{_INSERT_ID} AS insert_id FROM checked\n"
        )
    return f"""
, rows AS (
    SELECT
        line_no,
        problem,
        ts AS "timestamp",
        rts AS receive_timestamp,
        sev AS severity,
        CAST(CASE sev {severity_case} ELSE 0 END AS SMALLINT) AS severity_number,
        decoded_log_name AS log_name,
        nullif(split_part(decoded_log_name, '/logs/', 2), '') AS log_id,
        {_INSERT_ID} AS insert_id,
        "type" AS resource_type,
        coalesce(project_id, nullif(regexp_extract(logName, '^projects/([^/]+)/', 1), ''))
            AS project_id,
        coalesce(service_name, database_id, connector_name, job_name) AS service,
        revision_name AS revision,
        coalesce(location, region, zone) AS location,
        labels->>'$.instanceId' AS instance_id,
        trace,
        spanId AS span_id,
        http_code AS http_status,
        requestMethod AS http_method,
        requestUrl AS http_url,
        TRY_CAST(regexp_extract(trim(latency), '^(-?[0-9.]+)s$', 1) AS DOUBLE) * 1000
            AS http_latency_ms,
        CASE
            WHEN {_present("textPayload")} THEN 'text'
            WHEN {_present("jsonPayload")} THEN 'json'
            WHEN {_present("protoPayload")} THEN 'proto'
            ELSE 'none'
        END AS payload_kind,
        CASE
            WHEN {_present("textPayload")} THEN textPayload
            WHEN {_present("jsonPayload")} THEN coalesce(
                list_filter(json_extract_string(jsonPayload, {message_paths}),
                            m -> m IS NOT NULL)[1],
                left(CAST(jsonPayload AS VARCHAR), 2000))
            WHEN {_present("protoPayload")} THEN coalesce(
                nullif(concat_ws(': ', proto_text[1], proto_text[2]), ''), proto_text[3])
            WHEN {_present("httpRequest")} THEN concat_ws(' ',
                requestMethod, requestUrl, CAST(http_code AS VARCHAR), latency)
        END AS message_raw,
        coalesce(jsonPayload, protoPayload) AS json_payload,
        labels,
        CASE WHEN t[1] = 'OBJECT' THEN {raw_expr} END AS raw
    FROM (
        -- Not a scalar subquery: DuckDB would decorrelate it into a join that holds the
        -- whole batch in memory. NULL protoPayloads cost nothing here.
        SELECT *, json_extract_string(protoPayload, {proto_paths}) AS proto_text FROM checked)
)
SELECT * EXCLUDE (message_raw),
    CASE WHEN contains(message_raw, chr(27))
         THEN regexp_replace(message_raw, {_ANSI}, '', 'g')
         ELSE message_raw END AS message
FROM rows
"""
