"""Turn raw LogEntry JSON text into store rows in one vectorized DuckDB statement.

Usage:
  1. Register a relation named ``batch`` with columns ``line_no BIGINT`` and ``line VARCHAR``
     (one LogEntry JSON object per row; ``line_no`` is what error messages cite).
  2. Run ``normalize_sql()``: it returns one row per input row with every ``log_entries`` column
     (except ``source`` and ``ingest_id``) plus ``problem``, which is NULL for a good entry and
     otherwise says which field is wrong and why.

Everything happens inside DuckDB (no per-row Python): each entry is parsed once with a list of
JSON paths, then typed with TRY_CAST so that a value of the wrong type becomes a named problem
instead of an exception that would lose the whole batch.
"""

from __future__ import annotations

from forensics.schema import SEVERITY_LEVELS

__all__ = ["JSON_MESSAGE_KEYS", "normalize_sql"]

# Top-level LogEntry paths pulled in one parse; v[i] in the SQL below is PATHS[i - 1].
_PATHS = (
    "$.timestamp",  # 1
    "$.receiveTimestamp",  # 2
    "$.severity",  # 3
    "$.logName",  # 4
    "$.insertId",  # 5
    "$.resource.type",  # 6
    "$.resource.labels",  # 7
    "$.labels",  # 8
    "$.trace",  # 9
    "$.spanId",  # 10
    "$.httpRequest",  # 11
    "$.textPayload",  # 12
    "$.jsonPayload",  # 13
    "$.protoPayload",  # 14
    "$.resource",  # 15
)

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

_RESOURCE_LABEL_PATHS = (
    "$.service_name",  # 1 Cloud Run
    "$.database_id",  # 2 Cloud SQL
    "$.connector_name",  # 3 VPC Access
    "$.revision_name",  # 4
    "$.location",  # 5
    "$.region",  # 6
    "$.project_id",  # 7
    "$.job_name",  # 8
    "$.zone",  # 9
)

_ANSI = r"chr(27) || '\[[0-9;?]*[A-Za-z]'"


def _present(expr: str) -> str:
    return f"({expr} IS NOT NULL AND json_type({expr}) <> 'NULL')"


def _paths(paths: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{p}'" for p in paths) + "]"


def _type_problem(expr: str, field: str, json_types: tuple[str, ...], expected: str) -> str:
    allowed = ", ".join(f"'{t}'" for t in json_types)
    return (
        f"WHEN {_present(expr)} AND json_type({expr}) NOT IN ({allowed}) "
        f"THEN 'field {field}: expected {expected}, got ' || left(CAST({expr} AS VARCHAR), 60)"
    )


def normalize_sql(minify_raw: bool = False) -> str:
    """Return the SELECT that normalizes the registered ``batch`` relation.

    Args:
        minify_raw: re-serialize each entry compactly for ``raw`` (pretty-printed array
            exports would otherwise store their indentation).
    """
    severities = ", ".join(f"'{s}'" for s in SEVERITY_LEVELS)
    severity_case = " ".join(f"WHEN '{name}' THEN {num}" for name, num in SEVERITY_LEVELS.items())
    json_msg = ", ".join(f"v[13]->>'$.{k}'" for k in JSON_MESSAGE_KEYS)
    raw_expr = "json(line)" if minify_raw else "CAST(line AS JSON)"
    return f"""
WITH parsed AS (
    SELECT line_no, line, json_valid(line) AS valid
    FROM batch
), extracted AS (
    SELECT
        line_no, line, valid,
        CASE WHEN valid THEN json_type(line) END AS top_type,
        CASE WHEN valid AND json_type(line) = 'OBJECT'
             THEN json_extract(line, {_paths(_PATHS)}) END AS v
    FROM parsed
), typed AS (
    SELECT
        line_no, line, valid, top_type, v,
        TRY_CAST(v[1]->>'$' AS TIMESTAMPTZ) AS ts,
        TRY_CAST(v[2]->>'$' AS TIMESTAMPTZ) AS rts,
        upper(coalesce(v[3]->>'$', 'DEFAULT')) AS sev,
        CASE WHEN json_type(v[7]) = 'OBJECT'
             THEN json_extract_string(v[7], {_paths(_RESOURCE_LABEL_PATHS)}) END AS rl,
        CASE WHEN json_type(v[11]) = 'OBJECT'
             THEN json_extract(v[11], ['$.status', '$.requestMethod', '$.requestUrl',
                                       '$.latency']) END AS h
    FROM extracted
), checked AS (
    SELECT *,
        TRY_CAST(h[1]->>'$' AS INTEGER) AS status,
        CASE
            WHEN NOT valid THEN 'not valid JSON (truncated or malformed)'
            WHEN top_type <> 'OBJECT'
                THEN 'not a LogEntry object (a JSON ' || lower(top_type) || ')'
            WHEN NOT {_present("v[4]")} THEN 'field logName: missing'
            {_type_problem("v[4]", "logName", ("VARCHAR",), "a string")}
            WHEN NOT {_present("v[1]")} THEN 'field timestamp: missing'
            WHEN json_type(v[1]) <> 'VARCHAR' OR ts IS NULL
                THEN 'field timestamp: not an RFC 3339 time: ' || left(CAST(v[1] AS VARCHAR), 60)
            WHEN {_present("v[2]")} AND (json_type(v[2]) <> 'VARCHAR' OR rts IS NULL)
                THEN 'field receiveTimestamp: not an RFC 3339 time: '
                     || left(CAST(v[2] AS VARCHAR), 60)
            {_type_problem("v[3]", "severity", ("VARCHAR",), "a LogSeverity name")}
            WHEN sev NOT IN ({severities})
                THEN 'field severity: unknown LogSeverity ' || left(v[3]->>'$', 40)
            {_type_problem("v[5]", "insertId", ("VARCHAR",), "a string")}
            {_type_problem("v[15]", "resource", ("OBJECT",), "an object")}
            {_type_problem("v[6]", "resource.type", ("VARCHAR",), "a string")}
            {_type_problem("v[7]", "resource.labels", ("OBJECT",), "an object")}
            {_type_problem("v[8]", "labels", ("OBJECT",), "an object")}
            {_type_problem("v[9]", "trace", ("VARCHAR",), "a string")}
            {_type_problem("v[11]", "httpRequest", ("OBJECT",), "an object")}
            WHEN {_present("h[1]")} AND TRY_CAST(h[1]->>'$' AS INTEGER) IS NULL
                THEN 'field httpRequest.status: expected an integer, got '
                     || left(CAST(h[1] AS VARCHAR), 40)
            {_type_problem("v[12]", "textPayload", ("VARCHAR",), "a string")}
            {_type_problem("v[13]", "jsonPayload", ("OBJECT",), "an object")}
            {_type_problem("v[14]", "protoPayload", ("OBJECT",), "an object")}
        END AS problem
    FROM typed
), rows AS (
    SELECT
        line_no,
        problem,
        ts AS "timestamp",
        rts AS receive_timestamp,
        sev AS severity,
        CAST(CASE sev {severity_case} ELSE 0 END AS SMALLINT) AS severity_number,
        url_decode(v[4]->>'$') AS log_name,
        nullif(split_part(url_decode(v[4]->>'$'), '/logs/', 2), '') AS log_id,
        CASE WHEN v[5] IS NOT NULL AND json_type(v[5]) = 'VARCHAR' THEN v[5]->>'$'
             WHEN valid THEN 'sha256:' || sha256(json(line)) END AS insert_id,
        v[6]->>'$' AS resource_type,
        coalesce(rl[7], nullif(regexp_extract(v[4]->>'$', '^projects/([^/]+)/', 1), ''))
            AS project_id,
        coalesce(rl[1], rl[2], rl[3], rl[8]) AS service,
        rl[4] AS revision,
        coalesce(rl[5], rl[6], rl[9]) AS location,
        v[8]->>'$.instanceId' AS instance_id,
        v[9]->>'$' AS trace,
        v[10]->>'$' AS span_id,
        status AS http_status,
        h[2]->>'$' AS http_method,
        h[3]->>'$' AS http_url,
        TRY_CAST(regexp_extract(h[4]->>'$', '^\\s*(-?[0-9.]+)s\\s*$', 1) AS DOUBLE) * 1000
            AS http_latency_ms,
        CASE
            WHEN {_present("v[12]")} THEN 'text'
            WHEN {_present("v[13]")} THEN 'json'
            WHEN {_present("v[14]")} THEN 'proto'
            ELSE 'none'
        END AS payload_kind,
        CASE
            WHEN {_present("v[12]")} THEN v[12]->>'$'
            WHEN {_present("v[13]")} THEN coalesce({json_msg}, left(CAST(v[13] AS VARCHAR), 2000))
            WHEN {_present("v[14]")} THEN coalesce(
                nullif(concat_ws(': ', v[14]->>'$.methodName', v[14]->>'$.status.message'), ''),
                v[14]->>'$.resourceName')
            WHEN {_present("v[11]")} THEN concat_ws(' ', h[2]->>'$', h[3]->>'$',
                CAST(status AS VARCHAR), h[4]->>'$')
        END AS message_raw,
        coalesce(v[13], v[14]) AS json_payload,
        v[8] AS labels,
        CASE WHEN valid AND top_type = 'OBJECT' THEN {raw_expr} END AS raw
    FROM checked
)
SELECT * EXCLUDE (message_raw),
    CASE WHEN contains(message_raw, chr(27))
         THEN regexp_replace(message_raw, {_ANSI}, '', 'g')
         ELSE message_raw END AS message
FROM rows
"""
