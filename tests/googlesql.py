"""Google's GoogleSQL analyzer (the ``zetasql`` WASM build), with the tables BigQuery SQL reads.

``analyze(sql)`` resolves a statement the way BigQuery's front end does (names, types, function
signatures) against a catalog holding: ``log_entries`` (the signature SQL's source contract),
a Log Analytics ``_AllLogs`` view and a Log Router sink table, each under its backquoted full
name. ``execute(sql, {table: rows})`` runs it in ZetaSQL's reference implementation of
GoogleSQL (the evaluator Google's compliance tests hold engines to) over the given rows. Neither
needs network or credentials; building the analyzer compiles the WASM module once per test
process (about 25 CPU s), so every test shares one.

The ``_AllLogs`` and sink schemas are the ones ``forensics.bigquery.shapes`` loads the emulator
with (one description of each shape): ``_AllLogs`` with its JSON columns typed JSON, and the
sink's tables inferred from given entries (a ``jsonPayload`` RECORD of the fields seen so far).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from forensics.signatures.contract import SOURCE_CONTRACT

ALL_LOGS = "my-project.my_logs._AllLogs"
SINK_DATASET = "my-project.sink_dataset"
# _AllLogs columns that are JSON in Log Analytics (the emulator's staging shape keeps them as
# STRING text: forensics.bigquery.shapes.ALLLOGS_COLUMNS).
_ALL_LOGS_JSON = {"labels", "json_payload", "proto_payload", "resource.labels"}


def all_logs_schema() -> list[dict[str, Any]]:
    """The ``_AllLogs`` schema as the API lists it: the emulator shape, JSON columns as JSON."""
    from forensics.bigquery.shapes import ALLLOGS_COLUMNS

    def typed(field: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        path = prefix + field["name"]
        out = {**field, "type": "JSON" if path in _ALL_LOGS_JSON else field["type"]}
        if "fields" in field:
            out["fields"] = [typed(f, path + ".") for f in field["fields"]]
        return out

    return [typed(f) for f in ALLLOGS_COLUMNS]


def sink_schemas(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The tables (id -> API schema) a Log Router sink writes for ``entries`` (the fields seen)."""
    from forensics.bigquery.shapes import sink_tables

    tables = sink_tables(entries).tables
    return {f"{SINK_DATASET}.{name}": schema for name, (schema, _) in tables.items()}


def _contract_schema() -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.bigquery_type} for c in SOURCE_CONTRACT]


_SIMPLE = {
    "STRING": "TYPE_STRING",
    "INTEGER": "TYPE_INT64",
    "INT64": "TYPE_INT64",
    "FLOAT": "TYPE_DOUBLE",
    "FLOAT64": "TYPE_DOUBLE",
    "BOOLEAN": "TYPE_BOOL",
    "BOOL": "TYPE_BOOL",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "JSON": "TYPE_JSON",
}


def _zeta_type(field: dict[str, Any]) -> Any:
    from zetasql.api import TypeFactory
    from zetasql.types import TypeKind

    if field["type"] in ("RECORD", "STRUCT"):
        kind = TypeFactory.create_struct_type([(f["name"], _zeta_type(f)) for f in field["fields"]])
    else:
        kind = TypeFactory.create_simple_type(getattr(TypeKind, _SIMPLE[field["type"]]))
    return TypeFactory.create_array_type(kind) if field.get("mode") == "REPEATED" else kind


@cache
def analyzer(sink_entries: tuple[str, ...] = ()) -> Any:
    """One analyzer per table set (BigQuery's product mode, every language feature on), with
    ``log_entries``, ``_AllLogs`` and the sink tables of the JSON ``sink_entries``."""
    from zetasql.api import Analyzer, CatalogBuilder, TableBuilder
    from zetasql.types import (
        AnalyzerOptions,
        LanguageOptions,
        ProductMode,
        TypeKind,
        ZetaSQLBuiltinFunctionOptions,
    )

    lang = LanguageOptions.maximum_features()
    lang.product_mode = ProductMode.PRODUCT_EXTERNAL
    tables = {"log_entries": _contract_schema(), ALL_LOGS: all_logs_schema()}
    tables.update(sink_schemas([json.loads(e) for e in sink_entries]))
    catalog = CatalogBuilder("bigquery")
    for name, schema in tables.items():
        table = TableBuilder(name)
        for field in schema:
            table.add_column(field["name"], _zeta_type(field))
        catalog.add_table(table.build())
    catalog.with_builtin_functions(ZetaSQLBuiltinFunctionOptions(language_options=lang))
    timestamp = _zeta_type({"type": "TIMESTAMP"})
    assert timestamp.type_kind == TypeKind.TYPE_TIMESTAMP
    options = AnalyzerOptions(
        language_options=lang,
        query_parameters=[
            AnalyzerOptions.QueryParameter(name=name, type=timestamp)
            for name in ("start", "end", "since", "until")
        ],
    )
    return Analyzer(options, catalog.build())


def analyze(sql: str, sink_entries: tuple[str, ...] = ()) -> Any:
    """The resolved statement; raises the analyzer's error (with its line:column) if invalid."""
    return analyzer(sink_entries).analyze_statement(sql)


def _cell(value: object) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp
    from zetasql.types import Value

    if value is None:
        return Value()
    if isinstance(value, bool):
        return Value(bool_value=value)
    if isinstance(value, int):
        return Value(int64_value=value)
    if isinstance(value, float):
        return Value(double_value=value)
    if isinstance(value, datetime):
        stamp = Timestamp()
        stamp.FromDatetime(value)
        return Value(timestamp_value=stamp)
    return Value(string_value=str(value))


def _plain(value: Any) -> object:
    for kind in ("string_value", "bool_value", "int64_value", "double_value"):
        found = getattr(value, kind)
        if found is not None:
            return found
    return None


def execute(sql: str, tables: dict[str, Sequence[Sequence[object]]]) -> list[tuple[object, ...]]:
    """The rows ``sql`` yields in the reference implementation over ``tables`` (name -> rows,
    values in the table's column order; STRING, INT64, FLOAT64, BOOL and TIMESTAMP results)."""
    from zetasql.api import PreparedQueryBuilder
    from zetasql.types import TableContent, TableData

    content = {
        name: TableContent(
            table_data=TableData(row=[TableData.Row(cell=[_cell(v) for v in r]) for r in rows])
        )
        for name, rows in tables.items()
    }
    engine = analyzer()
    query = (
        PreparedQueryBuilder()
        .set_sql(sql)
        .set_analyzer_options(engine.options)
        .set_catalog(engine.catalog)
        .set_table_content(content)
        .prepare()
    )
    try:
        result = query.execute()
    finally:
        query.close()
    data = result.content.table_data
    rows = data.row if data is not None else []  # no table data when no row came out
    return [tuple(_plain(c) for c in row.cell) for row in rows]
