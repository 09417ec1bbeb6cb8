"""Google's GoogleSQL analyzer (the ``zetasql`` WASM build), with the tables BigQuery SQL reads.

``analyze(sql)`` resolves a statement the way BigQuery's front end does (names, types, function
signatures) against a catalog holding: ``log_entries`` (the signature SQL's source contract),
a Log Analytics ``_AllLogs`` view and a Log Router sink table, each under its backquoted full
name. It needs no network and no credentials; building the analyzer compiles the WASM module
once per test process (about 25 CPU s), so every test shares one.

The ``_AllLogs`` columns follow the Log Analytics schema
(https://cloud.google.com/logging/docs/analyze/query-linked-dataset); the sink table follows
the export schema of a Cloud Run stderr log (https://cloud.google.com/logging/docs/export/bigquery,
field names as the sink writes them, with a ``jsonPayload`` RECORD of the fields seen so far).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from forensics.signatures.contract import SOURCE_CONTRACT

ALL_LOGS = "my-project.my_logs._AllLogs"
SINK_TABLE = "my-project.sink_dataset.run_googleapis_com_stderr"


def _types() -> Any:
    from zetasql.api import TypeFactory
    from zetasql.types import TypeKind

    simple = TypeFactory.create_simple_type
    return {
        "STRING": simple(TypeKind.TYPE_STRING),
        "INT64": simple(TypeKind.TYPE_INT64),
        "FLOAT64": simple(TypeKind.TYPE_DOUBLE),
        "BOOL": simple(TypeKind.TYPE_BOOL),
        "TIMESTAMP": simple(TypeKind.TYPE_TIMESTAMP),
        "JSON": simple(TypeKind.TYPE_JSON),
        "INTERVAL": simple(TypeKind.TYPE_INTERVAL),
        "struct": TypeFactory.create_struct_type,
        "array": TypeFactory.create_array_type,
    }


def _all_logs_columns(t: dict[str, Any]) -> list[tuple[str, Any]]:
    s = t["STRING"]
    http_request = t["struct"](
        [
            ("request_method", s),
            ("request_url", s),
            ("request_size", t["INT64"]),
            ("status", t["INT64"]),
            ("response_size", t["INT64"]),
            ("user_agent", s),
            ("remote_ip", s),
            ("server_ip", s),
            ("referer", s),
            ("latency", t["INTERVAL"]),
            ("cache_lookup", t["BOOL"]),
            ("cache_hit", t["BOOL"]),
            ("cache_validated_with_origin_server", t["BOOL"]),
            ("cache_fill_bytes", t["INT64"]),
            ("protocol", s),
        ]
    )
    return [
        ("timestamp", t["TIMESTAMP"]),
        ("receive_timestamp", t["TIMESTAMP"]),
        ("log_id", s),
        ("log_name", s),
        ("severity", s),
        ("severity_number", t["INT64"]),
        ("insert_id", s),
        ("resource", t["struct"]([("type", s), ("labels", t["JSON"])])),
        ("labels", t["JSON"]),
        ("http_request", http_request),
        ("trace", s),
        ("span_id", s),
        ("trace_sampled", t["BOOL"]),
        ("text_payload", s),
        ("json_payload", t["JSON"]),
        ("proto_payload", t["JSON"]),
        ("operation", t["struct"]([("id", s), ("producer", s)])),
        ("source_location", t["struct"]([("file", s), ("line", t["INT64"]), ("function", s)])),
        ("error_groups", t["array"](t["struct"]([("id", s)]))),
    ]


def _sink_columns(t: dict[str, Any]) -> list[tuple[str, Any]]:
    s = t["STRING"]
    http_request = t["struct"](
        [
            ("requestMethod", s),
            ("requestUrl", s),
            ("status", t["INT64"]),
            ("userAgent", s),
            ("remoteIp", s),
            ("latency", s),
            ("protocol", s),
        ]
    )
    resource_labels = t["struct"](
        [
            ("project_id", s),
            ("service_name", s),
            ("revision_name", s),
            ("location", s),
            ("configuration_name", s),
        ]
    )
    json_payload = t["struct"](
        [
            ("message", s),
            ("severity", s),
            ("error", s),
            ("stack_trace", s),
            ("error_message", s),
        ]
    )
    return [
        ("logName", s),
        ("resource", t["struct"]([("type", s), ("labels", resource_labels)])),
        ("textPayload", s),
        ("jsonPayload", json_payload),
        ("timestamp", t["TIMESTAMP"]),
        ("receiveTimestamp", t["TIMESTAMP"]),
        ("severity", s),
        ("insertId", s),
        ("httpRequest", http_request),
        ("labels", t["struct"]([("instanceId", s)])),
        ("trace", s),
        ("spanId", s),
        ("traceSampled", t["BOOL"]),
    ]


@cache
def analyzer() -> Any:
    """One analyzer for the process (BigQuery's product mode, every language feature on)."""
    from zetasql.api import Analyzer, CatalogBuilder, TableBuilder
    from zetasql.types import (
        AnalyzerOptions,
        LanguageOptions,
        ProductMode,
        ZetaSQLBuiltinFunctionOptions,
    )

    t = _types()
    lang = LanguageOptions.maximum_features()
    lang.product_mode = ProductMode.PRODUCT_EXTERNAL
    tables = {
        "log_entries": [(c.name, t[c.bigquery_type]) for c in SOURCE_CONTRACT],
        ALL_LOGS: _all_logs_columns(t),
        SINK_TABLE: _sink_columns(t),
    }
    catalog = CatalogBuilder("bigquery")
    for name, columns in tables.items():
        table = TableBuilder(name)
        for column, kind in columns:
            table.add_column(column, kind)
        catalog.add_table(table.build())
    catalog.with_builtin_functions(ZetaSQLBuiltinFunctionOptions(language_options=lang))
    options = AnalyzerOptions(
        language_options=lang,
        query_parameters=[
            AnalyzerOptions.QueryParameter(name=name, type=t["TIMESTAMP"])
            for name in ("start", "end")
        ],
    )
    return Analyzer(options, catalog.build())


def analyze(sql: str) -> Any:
    """The resolved statement; raises the analyzer's error (with its line:column) if invalid."""
    return analyzer().analyze_statement(sql)
