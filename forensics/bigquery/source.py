"""BigQuery log sources and the mapping views that give the columns the signature SQL reads.

Usage:
  1. ``parse_source("proj.logs._AllLogs")`` or ``parse_source("proj.sink_dataset")``.
  2. ``discover(client, source, window)`` lists the tables to read (for a sink: every log table
     of the dataset, date-sharded ``LOGID_YYYYMMDD`` shards of the window's days only, or
     partitioned tables) with their actual schemas.
  3. ``entries_ctes(tables)`` returns the GoogleSQL CTEs ending in ``log_entries``: the
     ``SOURCE_CONTRACT`` columns (what the store's ``log_entries`` columns hold, derived the
     way ``forensics.normalize`` derives them) plus the ``WIRE`` columns a whole LogEntry is
     rebuilt from locally. Every table read is filtered on ``timestamp`` with the query
     parameters ``@since`` / ``@until`` (partition pruning); shards are picked by their day.

Why each shard is read by name rather than through a ``_TABLE_SUFFIX`` wildcard: a wildcard
query reads every shard with the newest shard's schema, so a ``jsonPayload`` field first seen on
an older day could not be named at all; one branch per shard reads each with its own schema
(and the emulator's wildcard rewrite cannot read nested fields). Columns are qualified with the
CTE name because the emulator's translator needs it for ``a.http_request.latency.nanos``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from forensics.errors import InputError
from forensics.normalize import JSON_MESSAGE_KEYS
from forensics.schema import SEVERITY_LEVELS
from forensics.timeutil import Window

__all__ = [
    "WIRE",
    "BigQuerySource",
    "SourceTable",
    "discover",
    "entries_ctes",
    "parse_source",
]

_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_SHARD = re.compile(r"^(?P<log>.+)_(?P<day>\d{8})$")

# The columns a whole LogEntry is rebuilt from (forensics.bigquery.rebuild), carried beside the
# contract columns: raw log name, payloads and label maps as JSON text, the HTTP request.
WIRE = (
    "raw_log_name",
    "receive_timestamp",
    "severity",
    "resource_json",
    "labels",
    "span_id",
    "trace_sampled",
    "http_json",
    "text_payload",
    "wire_json_payload",
    "proto_payload",
    "wire_kind",
)


@dataclass(frozen=True)
class BigQuerySource:
    """What ``--bigquery SOURCE`` names: a Log Analytics view or a sink's dataset."""

    project: str
    dataset: str
    view: str | None  # _AllLogs (or another Log Analytics view); None: a sink dataset

    @property
    def key(self) -> str:
        """The source id entries, checkpoints and gaps are recorded under."""
        return "bigquery:" + ".".join(p for p in (self.project, self.dataset, self.view) if p)


def parse_source(text: str, default_project: str | None = None) -> BigQuerySource:
    """``PROJECT.DATASET._AllLogs`` / ``PROJECT.DATASET`` (``DATASET`` alone uses the project)."""
    parts = text.strip().strip("`").split(".")
    if not text.strip() or not _NAME.match(text.strip().strip("`")) or any(not p for p in parts):
        raise InputError(
            f"--bigquery {text!r}: expected PROJECT.DATASET (a log sink's dataset) or "
            "PROJECT.DATASET._AllLogs (a Log Analytics linked dataset's view)"
        )
    if len(parts) == 1 and default_project:
        parts = [default_project, *parts]
    if len(parts) == 2:
        return BigQuerySource(parts[0], parts[1], None)
    if len(parts) == 3:
        return BigQuerySource(parts[0], parts[1], parts[2])
    raise InputError(
        f"--bigquery {text!r}: expected PROJECT.DATASET or PROJECT.DATASET.VIEW, "
        f"got {len(parts)} dotted parts"
    )


@dataclass(frozen=True)
class SourceTable:
    """One table or view to read, with its schema as field paths -> BigQuery type."""

    table_id: str  # project.dataset.table
    kind: str  # "sink" or "analytics"
    fields: dict[str, str]


def _paths(schema: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for f in schema:
        path = f"{prefix}{f.name}"
        out[path] = str(f.field_type).upper()
        if f.fields:
            out.update(_paths(f.fields, path + "."))
    return out


def _days(window: Window) -> set[str]:
    first: date = window.since.date()
    last: date = (window.until - timedelta(microseconds=1)).date()
    return {(first + timedelta(days=i)).strftime("%Y%m%d") for i in range((last - first).days + 1)}


def discover(client: Any, source: BigQuerySource, window: Window) -> list[SourceTable]:
    """The tables to read for the window, each with its own schema."""
    dataset = f"{source.project}.{source.dataset}"
    if source.view is not None:
        table = client.get_table(f"{dataset}.{source.view}")
        return [SourceTable(f"{dataset}.{source.view}", "analytics", _paths(table.schema))]
    days = _days(window)
    wanted = []
    for item in client.list_tables(dataset):
        shard = _SHARD.match(item.table_id)
        if shard and shard["day"] not in days:
            continue  # a whole day outside the window: not even listed in the query
        wanted.append(item.table_id)
    tables = []
    for table_id in sorted(wanted):
        fields = _paths(client.get_table(f"{dataset}.{table_id}").schema)
        if "timestamp" in fields and "logName" in fields:  # a log table, not something else
            tables.append(SourceTable(f"{dataset}.{table_id}", "sink", fields))
    return tables


def _has(fields: dict[str, str], path: str) -> bool:
    return path in fields


def _wire_columns(alias: str, names: dict[str, str | None], kind: str) -> str:
    """One branch of ``wire``: plain columns, and every RECORD or JSON column as JSON text.

    Only ``alias.column`` references: the emulator re-qualifies the whole query whenever one
    of its rewrites fires (REGEXP_EXTRACT, CONCAT, FORMAT, ...) and then cannot read
    ``alias.record.field``; the fields are read from the JSON text in the next stage instead.
    """

    def pick(out: str, column: str | None, sql: str, kind_: str = "STRING") -> str:
        return (sql.format(c=f"{alias}.{column}") if column else f"CAST(NULL AS {kind_})") + (
            f" AS {out}"
        )

    return ",\n        ".join(
        [
            f"{alias}.`timestamp` AS `timestamp`",
            pick("raw_log_name", names["log_name"], "{c}"),
            pick("receive_timestamp", names["receive_timestamp"], "{c}", "TIMESTAMP"),
            pick("severity", names["severity"], "{c}"),
            pick("insert_id", names["insert_id"], "{c}"),
            pick("resource_json", names["resource"], "TO_JSON_STRING({c})"),
            pick("labels", names["labels"], "TO_JSON_STRING({c})"),
            pick("trace", names["trace"], "{c}"),
            pick("span_id", names["span_id"], "{c}"),
            pick("trace_sampled", names["trace_sampled"], "{c}", "BOOL"),
            pick("http_json", names["http"], "IF({c} IS NULL, NULL, TO_JSON_STRING({c}))"),
            pick("text_payload", names["text_payload"], "{c}"),
            pick("wire_json_payload", names["json_payload"], "TO_JSON_STRING({c})"),
            pick("proto_payload", names["proto_payload"], "TO_JSON_STRING({c})"),
            f"'{kind}' AS wire_kind",
        ]
    )


# LogEntry field -> the sink column / the _AllLogs column holding it.
_SINK_NAMES = {
    "log_name": "logName",
    "receive_timestamp": "receiveTimestamp",
    "severity": "severity",
    "insert_id": "insertId",
    "resource": "resource",
    "labels": "labels",
    "trace": "trace",
    "span_id": "spanId",
    "trace_sampled": "traceSampled",
    "http": "httpRequest",
    "text_payload": "textPayload",
    "json_payload": "jsonPayload",
}
_ANALYTICS_NAMES = {
    "log_name": "log_name",
    "receive_timestamp": "receive_timestamp",
    "severity": "severity",
    "insert_id": "insert_id",
    "resource": "resource",
    "labels": "labels",
    "trace": "trace",
    "span_id": "span_id",
    "trace_sampled": "trace_sampled",
    "http": "http_request",
    "text_payload": "text_payload",
    "json_payload": "json_payload",
    "proto_payload": "proto_payload",
}


def _sink_wire(alias: str, fields: dict[str, str]) -> str:
    """The wire columns of one sink table: the fields it has, typed NULLs for the others."""
    names: dict[str, str | None] = {k: (v if v in fields else None) for k, v in _SINK_NAMES.items()}
    # audit logs: protopayload_auditlog (any top-level protoPayload record)
    names["proto_payload"] = next(
        (p for p in fields if p.lower().startswith("protopayload") and "." not in p), None
    )
    return _wire_columns(alias, names, "sink")


def _analytics_wire(alias: str) -> str:
    """The wire columns of a Log Analytics view (``_AllLogs`` schema)."""
    return _wire_columns(alias, dict(_ANALYTICS_NAMES), "analytics")


def _duration_text(seconds: str, nanos: str) -> str:
    """A Duration as the API writes it in JSON: 0, 3, 6 or 9 fractional digits, then 's'.

    ``||`` and LPAD rather than FORMAT or CONCAT: the emulator's rewrites of those two lose the
    nested fields of every other part of the query."""
    whole = f"CAST({seconds} AS STRING)"

    def frac(divisor: int, digits: int) -> str:
        part = f"DIV({nanos}, {divisor})" if divisor > 1 else nanos
        return f"{whole} || '.' || LPAD(CAST({part} AS STRING), {digits}, '0') || 's'"

    return (
        f"CASE WHEN {seconds} IS NULL THEN NULL "
        f"WHEN COALESCE({nanos}, 0) = 0 THEN {whole} || 's' "
        f"WHEN MOD({nanos}, 1000000) = 0 THEN {frac(1000000, 3)} "
        f"WHEN MOD({nanos}, 1000) = 0 THEN {frac(1000, 6)} "
        f"ELSE {frac(1, 9)} END"
    )


def _either(column: str, camel: str, snake: str) -> str:
    return f"COALESCE(JSON_VALUE({column}, '$.{camel}'), JSON_VALUE({column}, '$.{snake}'))"


def _json_text(column: str, path: str) -> str:
    """DuckDB's json_extract_string: a scalar as text, an object or array as its JSON text,
    NULL for JSON null or a missing key."""
    query = f"CAST(JSON_QUERY({column}, '{path}') AS STRING)"  # STRING already; the emulator
    return f"IF({query} = 'null', NULL, COALESCE(JSON_VALUE({column}, '{path}'), {query}))"


def _message_sql() -> str:
    """forensics.normalize's display text, in GoogleSQL over the wire columns."""
    keys = ", ".join(_json_text("wire_json_payload", f"$.{k}") for k in JSON_MESSAGE_KEYS)
    proto = (
        "COALESCE(NULLIF(ARRAY_TO_STRING(["
        "JSON_VALUE(proto_payload, '$.methodName'), "
        "JSON_VALUE(proto_payload, '$.status.message')], ': '), ''), "
        "JSON_VALUE(proto_payload, '$.resourceName'))"
    )
    return (
        "CASE WHEN text_payload IS NOT NULL THEN text_payload "
        f"WHEN wire_json_payload IS NOT NULL THEN COALESCE({keys}, LEFT(wire_json_payload, 2000)) "
        f"WHEN proto_payload IS NOT NULL THEN {proto} "
        "WHEN http_json IS NOT NULL THEN ARRAY_TO_STRING("
        "[http_method, http_url, CAST(http_status AS STRING), latency_text], ' ') END"
    )


def _contract_sql() -> str:
    """log_entries: the SOURCE_CONTRACT columns (and the store's others) over ``wire``."""
    severity_case = " ".join(f"WHEN '{n}' THEN {v}" for n, v in SEVERITY_LEVELS.items())
    labels = "resource_labels"
    duration = _duration_text("latency_seconds", "latency_nanos")
    return f"""fields AS (
    SELECT *,
        JSON_VALUE(resource_json, '$.type') AS resource_type,
        CAST(JSON_QUERY(resource_json, '$.labels') AS STRING) AS resource_labels,
        {_either("labels", "instanceId", "instanceid")} AS instance_id,
        {_either("http_json", "requestMethod", "request_method")} AS http_method,
        {_either("http_json", "requestUrl", "request_url")} AS http_url,
        SAFE_CAST(JSON_VALUE(http_json, '$.status') AS INT64) AS http_status,
        JSON_VALUE(http_json, '$.latency') AS http_latency,
        SAFE_CAST(JSON_VALUE(http_json, '$.latency.seconds') AS INT64) AS latency_seconds,
        SAFE_CAST(JSON_VALUE(http_json, '$.latency.nanos') AS INT64) AS latency_nanos
    FROM wire
), timed AS (
    SELECT *, COALESCE(http_latency, {duration}) AS latency_text FROM fields
), decoded AS (
    SELECT *,
        UPPER(COALESCE(severity, 'DEFAULT')) AS sev,
        REPLACE(REPLACE(raw_log_name, '%2F', '/'), '%2f', '/') AS decoded_log_name,
        {_message_sql()} AS message_raw
    FROM timed
), log_entries AS (
    SELECT
        `timestamp`, sev AS severity_name,  -- receive_timestamp comes with WIRE
        CASE sev {severity_case} ELSE 0 END AS severity_number,
        decoded_log_name AS log_name,
        NULLIF(SPLIT(decoded_log_name, '/logs/')[SAFE_OFFSET(1)], '') AS log_id,
        insert_id, resource_type,
        COALESCE(JSON_VALUE({labels}, '$.project_id'),
            NULLIF(REGEXP_EXTRACT(raw_log_name, r'^projects/([^/]+)/'), '')) AS project_id,
        COALESCE(JSON_VALUE({labels}, '$.service_name'), JSON_VALUE({labels}, '$.database_id'),
            JSON_VALUE({labels}, '$.connector_name'), JSON_VALUE({labels}, '$.job_name'))
            AS service,
        JSON_VALUE({labels}, '$.revision_name') AS revision,
        COALESCE(JSON_VALUE({labels}, '$.location'), JSON_VALUE({labels}, '$.region'),
            JSON_VALUE({labels}, '$.zone')) AS location,
        instance_id, trace, http_status, http_method, http_url,
        SAFE_CAST(REGEXP_EXTRACT(TRIM(latency_text), r'^(-?[0-9.]+)s$') AS FLOAT64) * 1000
            AS http_latency_ms,
        IF(STRPOS(message_raw, CODE_POINTS_TO_STRING([27])) > 0,
            REGEXP_REPLACE(message_raw, r'\\x1b\\[[0-9;?]*[A-Za-z]', ''), message_raw) AS message,
        COALESCE(wire_json_payload, proto_payload) AS json_payload,
        {", ".join(WIRE)}
    FROM decoded
)"""


def entries_ctes(tables: list[SourceTable]) -> str:
    """CTE definitions (without WITH) ending in ``log_entries``; see the module docstring."""
    if not tables:
        raise InputError("no log tables to read for the window")
    ctes = []
    branches = []
    for i, table in enumerate(tables):
        alias = f"t{i}"
        columns = (
            _analytics_wire(alias) if table.kind == "analytics" else _sink_wire(alias, table.fields)
        )
        ctes.append(
            f"w{i} AS (\n    SELECT\n        {columns}\n    FROM `{table.table_id}` AS {alias}\n"
            f"    WHERE {alias}.`timestamp` >= @since AND {alias}.`timestamp` < @until\n)"
        )
        branches.append(f"SELECT * FROM w{i}")
    ctes.append("wire AS (\n    " + "\n    UNION ALL ".join(branches) + "\n)")
    ctes.append(_contract_sql())
    return ",\n".join(ctes)
