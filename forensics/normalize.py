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

from forensics.entry_problems import (
    first_problem_case,
    plain_object,
    plain_string,
    plain_time,
    problem_case,
    typed_paths_sql,
)
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

# resource.labels keys that fill columns (service, project, revision, location).
_SHAPE_LABELS = (
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
        "labels": {key: "VARCHAR" for key in _SHAPE_LABELS},
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

_PROTO_TEXT = ("$.methodName", "$.status.message", "$.resourceName")
_ANSI = r"chr(27) || '\[[0-9;?]*[A-Za-z]'"
_BLANK = "' ' || chr(9) || chr(10) || chr(13)"


# An entry's identity part 2: its insertId, or, when it has none, a placeholder that
# forensics.identity.fill_identities replaces with a hash of the entry's canonical form (parsed
# values, sorted keys, the timestamp left to part 3), so the same entry hashes alike in any
# export format, key order or time zone.
_INSERT_ID = f"CASE WHEN insertId IS NOT NULL THEN insertId WHEN valid THEN {PENDING_SQL} END"


def _time_cast(col: str) -> str:
    """The TIMESTAMPTZ of an RFC 3339 text. DuckDB reads 'T' and 'Z' but not 't' and 'z', which
    RFC 3339 allows: only a time that does not cast as it is pays for upper() (a new string
    per row; coalesce evaluates its second argument only where the first is NULL)."""
    return f"coalesce(TRY_CAST({col} AS TIMESTAMPTZ), TRY_CAST(upper({col}) AS TIMESTAMPTZ))"


def normalize_sql(
    minify_raw: bool = False,
    check_only: bool = False,
    strict: bool = False,
    batch_sql: str | None = None,
) -> str:
    """Return the SELECT that normalizes the registered ``batch`` relation.

    Each entry is parsed once (json_transform); the cheap plain checks pass the entries that
    are surely well formed, and only the others are parsed again to name their problem
    exactly (forensics.entry_problems).

    Args:
        minify_raw: re-serialize each entry compactly for ``raw`` (pretty-printed array
            exports would otherwise store their indentation).
        check_only: return only ``line_no, problem`` and the identity (``timestamp,
            log_name, insert_id``).
        strict: parse without try(), which costs a third of the parse: a line that is not
            JSON then fails the statement (the caller runs it again without ``strict``).
        batch_sql: a SELECT giving the ``batch`` relation, when it is not registered.
    """
    parse = f"json_transform(line, '{json.dumps(_SHAPE)}')"
    message_paths = "[" + ", ".join(f"'$.{k}'" for k in JSON_MESSAGE_KEYS) + "]"
    proto_paths = "[" + ", ".join(f"'{p}'" for p in _PROTO_TEXT) + "]"
    # The LogSeverity number, NULL for an unknown name: one CASE both checks and converts (an
    # IN list of the nine names became a hash join, run twice).
    severity_case = " ".join(f"WHEN '{name}' THEN {num}" for name, num in SEVERITY_LEVELS.items())
    # proto3 JSON parsers take an enum's number too (``"severity": 500``): its name is stored,
    # and the number read from that name.
    severity_name = " ".join(f"WHEN '{num}' THEN '{name}'" for name, num in SEVERITY_LEVELS.items())
    # Lines arrive without their line end (forensics.ndjson cuts it out in bulk: substr() here
    # scanned every character of every entry, a twentieth of the load).
    raw_expr = "json(line)" if minify_raw else "line"
    resource_labels = ", ".join(_SHAPE_LABELS)
    ok = " AND ".join(
        [
            "given_problem IS NULL",
            "logName IS NOT NULL",
            plain_string("logName"),
            plain_time("timestamp", "ts"),
            f"(receiveTimestamp IS NULL OR {plain_time('receiveTimestamp', 'rts')})",
            "sev_num IS NOT NULL",
            *(plain_string(col) for col in ("insertId", "trace", "spanId", "textPayload")),
            # A struct json_transform filled from something that was not an object has
            # nothing in it: an empty or foreign object is checked exactly too.
            '(NOT has_resource OR "type" IS NOT NULL)',
            f"(NOT has_resource_labels OR coalesce({resource_labels}) IS NOT NULL)",
            "(NOT has_http OR coalesce(status, requestMethod, requestUrl, latency) IS NOT NULL)",
            "(status IS NULL OR regexp_full_match(status, '-?[0-9]{1,9}'))",
            r"(latency IS NULL OR regexp_full_match(trim(latency), '-?[0-9]+(\.[0-9]+)?s'))",
            *(plain_object(col) for col in ("labels", "jsonPayload", "protoPayload")),
        ]
    )
    given = f"batch AS ({batch_sql}), " if batch_sql else ""
    return f"""
WITH {given}lines AS (
    SELECT line_no, line, given_problem
    FROM batch
    -- Blank lines are skipped. trim() scans the whole string, so only lines that do not start
    -- with a brace pay for it: CASE, not OR (DuckDB ran the OR's trim() on every line too,
    -- about 2 CPU s per million lines; benchmarks/bench_ingest.py).
    WHERE CASE WHEN starts_with(line, '{{') THEN true ELSE trim(line, {_BLANK}) <> '' END
), parsed AS (
    -- try(): malformed JSON yields NULL instead of failing the batch
    SELECT line_no, line, given_problem, {parse if strict else f"try({parse})"} AS e
    FROM lines
), extracted AS (
    SELECT line_no, line, given_problem,
        e.resource IS NOT NULL AS has_resource,
        e.resource.labels IS NOT NULL AS has_resource_labels,
        e.httpRequest IS NOT NULL AS has_http,
        unnest(e, recursive := true)
    FROM parsed
), converted AS (
    SELECT *,
        {_time_cast('"timestamp"')} AS ts,
        {_time_cast("receiveTimestamp")} AS rts,
        -- a number's name; a name (the usual case) costs one byte comparison more
        CASE WHEN severity >= '0' AND severity < ':' THEN CASE severity {severity_name}
            ELSE severity END ELSE upper(coalesce(severity, 'DEFAULT')) END AS sev,
        CAST(CASE sev {severity_case} END AS SMALLINT) AS sev_num,
        TRY_CAST(status AS INTEGER) AS http_code,
        url_decode(logName) AS decoded_log_name
    FROM extracted
), screened AS (
    SELECT *, {ok} AS ok FROM converted
), typed AS (
    -- The second parse, only for entries the plain checks did not pass.
    SELECT *, CASE WHEN ok THEN NULL ELSE try(json_type(line, {typed_paths_sql()})) END AS t
    FROM screened
), marked AS (
    SELECT *, ok OR t IS NOT NULL AS valid FROM typed
), timed AS (
    SELECT *, {first_problem_case()} AS first_problem FROM marked
), checked AS (
    SELECT *, {problem_case()} AS problem FROM timed
){_final_select(raw_expr, check_only, message_paths, proto_paths)}"""


def _final_select(raw_expr: str, check_only: bool, message_paths: str, proto_paths: str) -> str:
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
        sev_num AS severity_number,
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
        -- A stored entry's latency passed '-?[0-9]+(\\.[0-9]+)?s' (trimmed): the number is all
        -- but its last character, no regexp_extract needed.
        TRY_CAST(left(trim(latency), -1) AS DOUBLE) * 1000 AS http_latency_ms,
        CASE
            WHEN textPayload IS NOT NULL THEN 'text'
            WHEN jsonPayload IS NOT NULL THEN 'json'
            WHEN protoPayload IS NOT NULL THEN 'proto'
            ELSE 'none'
        END AS payload_kind,
        CASE
            WHEN textPayload IS NOT NULL THEN textPayload
            WHEN jsonPayload IS NOT NULL THEN coalesce(
                list_filter(json_extract_string(jsonPayload, {message_paths}),
                            m -> m IS NOT NULL)[1],
                left(CAST(jsonPayload AS VARCHAR), 2000))
            WHEN protoPayload IS NOT NULL THEN coalesce(
                nullif(concat_ws(': ', proto_text[1], proto_text[2]), ''), proto_text[3])
            WHEN has_http THEN concat_ws(' ',
                requestMethod, requestUrl, CAST(http_code AS VARCHAR), latency)
        END AS message_raw,
        coalesce(jsonPayload, protoPayload) AS json_payload,
        labels,
        CASE WHEN problem IS NULL THEN {raw_expr} END AS raw
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
