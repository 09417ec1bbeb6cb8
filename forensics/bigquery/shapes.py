"""How Cloud Logging writes LogEntries into BigQuery: a Log Router sink's tables, ``_AllLogs``.

Used to load an emulator (tests) or a synthetic sink (benchmarks) with exactly the shape a real
project has, so the mapping views in ``forensics.bigquery.source`` are exercised on it.

Sink tables (Google's "BigQuery schema for routed logs"): one table per log, named after the
LOG_ID with non-alphanumerics as ``_`` (``run_googleapis_com_stderr``), with a ``_YYYYMMDD``
suffix per UTC day unless the sink uses partitioned tables. LogEntry fields keep their names
(``logName``, ``httpRequest.requestMethod``); user-supplied names (``jsonPayload``, ``labels``,
``resource.labels`` keys) are lowercased, other characters become ``_`` and leading ``_`` are
dropped; the ``jsonPayload`` RECORD holds only the fields seen so far. ``httpRequest.latency``
is a STRING such as ``"0.250s"`` (seen in public sink queries). Audit logs' ``protoPayload``
becomes ``protopayload_auditlog``.

``_AllLogs`` (Log Analytics linked dataset): snake_case columns, ``resource.labels``,
``labels``, ``json_payload`` and ``proto_payload`` as JSON, ``http_request.latency`` as a
STRUCT of seconds and nanos. The emulator cannot stream JSON values into a table, so the shape
is a staging table holding JSON text and a view that parses it, under the same column names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from forensics.schema import SEVERITY_LEVELS

__all__ = [
    "ALLLOGS_COLUMNS",
    "SinkTables",
    "alllogs_row",
    "alllogs_table_sql",
    "drop_nulls",
    "restore_labels",
    "sink_field_name",
    "sink_round_trip",
    "sink_table_id",
    "sink_tables",
]

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def sink_field_name(name: str) -> str:
    """A user-supplied field name as a sink writes it: lowercased, ``[^a-z0-9]`` as ``_``,
    leading underscores dropped."""
    return _NON_ALNUM.sub("_", name.lower()).lstrip("_") or "_"


def sink_table_id(log_name: str, day: str | None) -> str:
    """``projects/p/logs/run.googleapis.com%2Fstderr`` -> ``run_googleapis_com_stderr[_DAY]``."""
    log_id = log_name.split("/logs/", 1)[-1].replace("%2F", "/").replace("%2f", "/")
    base = _NON_ALNUM.sub("_", log_id)
    return f"{base}_{day}" if day else base


# Fields of LogEntry and HttpRequest with their BigQuery types (the rest are user-supplied).
_HTTP_TYPES = {
    "requestMethod": "STRING",
    "requestUrl": "STRING",
    "requestSize": "INTEGER",
    "status": "INTEGER",
    "responseSize": "INTEGER",
    "userAgent": "STRING",
    "remoteIp": "STRING",
    "serverIp": "STRING",
    "referer": "STRING",
    "latency": "STRING",
    "cacheLookup": "BOOLEAN",
    "cacheHit": "BOOLEAN",
    "cacheValidatedWithOriginServer": "BOOLEAN",
    "cacheFillBytes": "INTEGER",
    "protocol": "STRING",
}
_TOP_TYPES = {
    "logName": "STRING",
    "timestamp": "TIMESTAMP",
    "receiveTimestamp": "TIMESTAMP",
    "severity": "STRING",
    "insertId": "STRING",
    "trace": "STRING",
    "spanId": "STRING",
    "traceSampled": "BOOLEAN",
    "textPayload": "STRING",
}


@dataclass
class _Field:
    """A schema field being inferred: its type, mode and (for RECORD) sub-fields."""

    kind: str
    repeated: bool = False
    fields: dict[str, _Field] = field(default_factory=dict)

    def api(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "type": self.kind}
        out["mode"] = "REPEATED" if self.repeated else "NULLABLE"
        if self.kind == "RECORD":
            out["fields"] = [f.api(n) for n, f in self.fields.items()]
        return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INTEGER"
    if isinstance(value, float):
        return "FLOAT"
    if isinstance(value, dict):
        return "RECORD"
    return "STRING"


def _merge(into: dict[str, _Field], name: str, value: Any) -> None:
    if value is None:
        return
    repeated = isinstance(value, list)
    items = value if repeated else [value]
    for item in items:
        kind = "STRING" if item is None or isinstance(item, list) else _kind(item)
        have = into.get(name)
        if have is None:
            have = into[name] = _Field(kind, repeated)
        elif have.kind != kind:
            numbers = {have.kind, kind} <= {"INTEGER", "FLOAT"}
            have.kind = "FLOAT" if numbers else "STRING"
            have.fields = {}
        if have.kind == "RECORD" and isinstance(item, dict):
            for key, sub in item.items():  # user-supplied names were lowercased already
                _merge(have.fields, key, sub)


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {sink_field_name(k): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _coerce(value: Any, spec: _Field) -> Any:
    """A value as the inferred schema holds it (conflicting types kept as text)."""
    if value is None:
        return None
    if spec.repeated:
        items = value if isinstance(value, list) else [value]
        return [_coerce_one(v, spec) for v in items if v is not None]
    return _coerce_one(value[0] if isinstance(value, list) and value else value, spec)


def _coerce_one(value: Any, spec: _Field) -> Any:
    if spec.kind == "RECORD":
        if not isinstance(value, dict):
            return None
        return {k: _coerce(value.get(k), f) for k, f in spec.fields.items() if k in value}
    if spec.kind == "STRING" and not isinstance(value, str):
        return json.dumps(value, separators=(",", ":"))
    if spec.kind == "FLOAT" and isinstance(value, int | float):
        return float(value)
    return value


def _sink_row(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with user-supplied names as a sink writes them (types fixed later)."""
    row: dict[str, Any] = {k: entry[k] for k in _TOP_TYPES if entry.get(k) is not None}
    resource = entry.get("resource")
    if isinstance(resource, dict):
        row["resource"] = {
            "type": resource.get("type"),
            "labels": _lower_keys(resource.get("labels") or {}),
        }
    if isinstance(entry.get("labels"), dict):
        row["labels"] = _lower_keys(entry["labels"])
    http = entry.get("httpRequest")
    if isinstance(http, dict):
        row["httpRequest"] = {k: v for k, v in http.items() if k in _HTTP_TYPES}
    if isinstance(entry.get("jsonPayload"), dict):
        row["jsonPayload"] = _lower_keys(entry["jsonPayload"])
    proto = entry.get("protoPayload")
    if isinstance(proto, dict):
        row["protopayload_auditlog"] = {
            k: proto[k] for k in ("methodName", "resourceName", "serviceName") if k in proto
        }
        if isinstance(proto.get("status"), dict):
            row["protopayload_auditlog"]["status"] = {
                k: proto["status"][k] for k in ("code", "message") if k in proto["status"]
            }
    return row


@dataclass
class SinkTables:
    """Sink tables for a set of entries: table id -> (API schema, rows)."""

    tables: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def sink_tables(entries: Iterable[dict[str, Any]], *, sharded: bool = True) -> SinkTables:
    """Group entries into the tables a sink would write, with the schema their fields make."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        grouped.setdefault(_table_of(entry, sharded), []).append(_sink_row(entry))
    out: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for table, rows in grouped.items():
        fields: dict[str, _Field] = {}
        for row in rows:
            for key, value in row.items():
                fixed = {"httpRequest": _HTTP_TYPES}.get(key)
                if key in _TOP_TYPES:
                    fields.setdefault(key, _Field(_TOP_TYPES[key]))
                elif fixed is not None:
                    rec = fields.setdefault(key, _Field("RECORD"))
                    for sub in value:
                        rec.fields.setdefault(sub, _Field(fixed[sub]))
                else:
                    _merge(fields, key, value)
        schema = [f.api(n) for n, f in fields.items()]
        coerced = [{k: _coerce(v, fields[k]) for k, v in row.items()} for row in rows]
        out[table] = (schema, coerced)
    return SinkTables(out)


def _table_of(entry: dict[str, Any], sharded: bool) -> str:
    day = str(entry.get("timestamp") or "")[:10].replace("-", "") if sharded else None
    return sink_table_id(str(entry.get("logName")), day)


# Cloud Run's own entry labels, whose names a sink lowercases like any user-supplied name.
_SYSTEM_LABELS = {"instanceid": "instanceId"}


def restore_labels(labels: dict[str, Any]) -> dict[str, Any]:
    """A sink's lowercased entry labels with Cloud Run's ``instanceId`` spelled as it was."""
    return {_SYSTEM_LABELS.get(k, k): v for k, v in labels.items()}


def drop_nulls(value: Any) -> Any:
    """The value without null members, at any depth (a sink cannot tell null from absent)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def sink_round_trip(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry as a sink gives it back: lowercased user-supplied names, the table's types,
    only the audit fields a sink keeps, nulls and absent fields alike (entry i -> result i)."""
    tables = sink_tables(entries)
    cursor: dict[str, int] = {}
    out = []
    for entry in entries:
        table = _table_of(entry, True)
        index = cursor.get(table, 0)
        cursor[table] = index + 1
        row = dict(tables.tables[table][1][index])
        if isinstance(row.get("labels"), dict):
            row["labels"] = restore_labels(row["labels"])
        if "protopayload_auditlog" in row:
            row["protoPayload"] = row.pop("protopayload_auditlog")
        out.append(drop_nulls(row))
    return out


# The _AllLogs columns (Log Analytics schema) the mapping view reads, as the staging table holds
# them: JSON columns as STRING text that the view parses.
ALLLOGS_COLUMNS: list[dict[str, Any]] = [
    {"name": "timestamp", "type": "TIMESTAMP"},
    {"name": "receive_timestamp", "type": "TIMESTAMP"},
    {"name": "log_name", "type": "STRING"},
    {"name": "log_id", "type": "STRING"},
    {"name": "severity", "type": "STRING"},
    {"name": "severity_number", "type": "INTEGER"},
    {"name": "insert_id", "type": "STRING"},
    {
        "name": "resource",
        "type": "RECORD",
        "fields": [{"name": "type", "type": "STRING"}, {"name": "labels", "type": "STRING"}],
    },
    {"name": "labels", "type": "STRING"},
    {
        "name": "http_request",
        "type": "RECORD",
        "fields": [
            {"name": "request_method", "type": "STRING"},
            {"name": "request_url", "type": "STRING"},
            {"name": "request_size", "type": "INTEGER"},
            {"name": "status", "type": "INTEGER"},
            {"name": "response_size", "type": "INTEGER"},
            {"name": "user_agent", "type": "STRING"},
            {"name": "remote_ip", "type": "STRING"},
            {"name": "server_ip", "type": "STRING"},
            {"name": "referer", "type": "STRING"},
            {
                "name": "latency",
                "type": "RECORD",
                "fields": [
                    {"name": "seconds", "type": "INTEGER"},
                    {"name": "nanos", "type": "INTEGER"},
                ],
            },
            {"name": "protocol", "type": "STRING"},
        ],
    },
    {"name": "trace", "type": "STRING"},
    {"name": "span_id", "type": "STRING"},
    {"name": "trace_sampled", "type": "BOOLEAN"},
    {"name": "text_payload", "type": "STRING"},
    {"name": "json_payload", "type": "STRING"},
    {"name": "proto_payload", "type": "STRING"},
]
_JSON_COLUMNS = ("labels", "json_payload", "proto_payload")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _latency_struct(text: Any) -> dict[str, int] | None:
    match = re.fullmatch(r"\s*(-?)(\d+)(?:\.(\d{1,9}))?s\s*", str(text)) if text else None
    if not match:
        return None
    sign = -1 if match[1] else 1
    nanos = int((match[3] or "").ljust(9, "0") or 0)
    return {"seconds": sign * int(match[2]), "nanos": sign * nanos}


def alllogs_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One staging row of the ``_AllLogs`` shape for a LogEntry."""
    severity = str(entry.get("severity") or "DEFAULT").upper()
    log_name = str(entry.get("logName") or "")
    given = entry.get("resource")
    resource: dict[str, Any] = given if isinstance(given, dict) else {}
    row: dict[str, Any] = {
        "timestamp": entry.get("timestamp"),
        "receive_timestamp": entry.get("receiveTimestamp"),
        "log_name": log_name,
        "log_id": log_name.split("/logs/", 1)[-1].replace("%2F", "/") or None,
        "severity": severity,
        "severity_number": SEVERITY_LEVELS.get(severity, 0),
        "insert_id": entry.get("insertId"),
        "resource": {
            "type": resource.get("type"),
            "labels": json.dumps(resource.get("labels") or {}, separators=(",", ":")),
        },
        "trace": entry.get("trace"),
        "span_id": entry.get("spanId"),
        "trace_sampled": entry.get("traceSampled"),
        "text_payload": entry.get("textPayload"),
    }
    for column, key in zip(_JSON_COLUMNS, ("labels", "jsonPayload", "protoPayload"), strict=True):
        value = entry.get(key)
        row[column] = json.dumps(value, separators=(",", ":")) if value is not None else None
    http = entry.get("httpRequest")
    if isinstance(http, dict):
        shaped: dict[str, Any] = {}
        for key, value in http.items():
            name = _SNAKE.sub("_", key).lower()
            if name == "latency":
                shaped[name] = _latency_struct(value)
            elif name in ("request_size", "response_size", "status"):
                shaped[name] = int(value) if str(value).lstrip("-").isdigit() else None
            elif name in {f["name"] for f in ALLLOGS_COLUMNS[9]["fields"]}:
                shaped[name] = value
        row["http_request"] = shaped
    return row


def alllogs_table_sql(dataset: str, staging: str, name: str = "_AllLogs") -> str:
    """The ``_AllLogs``-shaped table from a staging table: JSON text parsed into JSON columns.

    A table, not a view as in a real linked dataset: the emulator's translator only knows the
    columns of tables."""
    parsed = ", ".join(f"SAFE.PARSE_JSON({c}) AS {c}" for c in _JSON_COLUMNS)
    return (
        f"CREATE OR REPLACE TABLE `{dataset}.{name}` AS SELECT * EXCEPT (resource, "
        f"{', '.join(_JSON_COLUMNS)}), STRUCT(resource.type AS type, "
        f"SAFE.PARSE_JSON(resource.labels) AS labels) AS resource, {parsed} "
        f"FROM `{dataset}.{staging}`"
    )
