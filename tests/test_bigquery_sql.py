"""The BigQuery dialect's SQL, checked by Google's GoogleSQL analyzer (offline: googlesql.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.errors import ConfigError
from forensics.signatures.catalog import load_catalog, scan_catalog
from forensics.signatures.compile import classification_sql
from forensics.signatures.dialect import BIGQUERY, DUCKDB
from forensics.signatures.levels import level_sql
from forensics.signatures.matchtext import match_text_sql
from forensics.signatures.mining import error_sql
from forensics.signatures.model import Extract
from forensics.signatures.validators import lint_problems
from tests.conftest import requires_real_staging
from tests.googlesql import analyze

CATALOG = load_catalog()
# The output columns of the DuckDB statement, which fills the store's signature_matches table.
MATCH_COLUMNS = [
    "timestamp",
    "log_name",
    "insert_id",
    "signature",
    "is_primary",
    "service",
    "revision",
    "instance_id",
    "trace",
    "params",
    "catalog_version",
]


def _output_names(resolved: object) -> list[str]:
    return [c.name for c in resolved.output_column_list]  # type: ignore[attr-defined]


def test_whole_catalog_statement_passes_the_analyzer() -> None:
    """Every active signature's condition, gate test and params, in the one statement."""
    sql = classification_sql(CATALOG, "TRUE", BIGQUERY)
    resolved = analyze(sql)
    assert _output_names(resolved) == MATCH_COLUMNS
    kinds = {c.name: c.column.type.type_kind.name for c in resolved.output_column_list}
    assert kinds["timestamp"] == "TYPE_TIMESTAMP"
    assert kinds["is_primary"] == "TYPE_BOOL"
    assert kinds["params"] == "TYPE_STRING"  # JSON text, as the store keeps it
    # every signature and every extract pattern is in it
    for sig in CATALOG.active():
        assert BIGQUERY.literal(sig.id) in sql
        for ext in sig.extract:
            if ext.regex:
                assert BIGQUERY.literal(ext.regex) in sql


def test_statement_uses_googlesql_spellings_only() -> None:
    sql = classification_sql(CATALOG, "TRUE", BIGQUERY)
    for duckdb_only in (
        "regexp_matches(",
        "contains(",
        "TRY_CAST",
        "MATERIALIZED",
        "list_filter",
        "json_extract_string",
        "chr(10)",
        "AS u(",
        '"timestamp"',
        "CONTAINS_SUBSTR",
    ):
        assert duckdb_only not in sql, duckdb_only
    for googlesql in ("REGEXP_CONTAINS(", "REGEXP_EXTRACT(", "STRPOS(", "SAFE_CAST(", "JSON_VALUE"):
        assert googlesql in sql, googlesql


def test_windowed_statement_with_query_parameters_and_carried_columns() -> None:
    """The form a collector runs: a timestamp window in parameters, a subquery source."""
    source = "(SELECT *, 'x' AS raw FROM log_entries)"
    where = "`timestamp` >= @start AND `timestamp` < @end"
    sql = classification_sql(CATALOG, where, BIGQUERY, source=source, carry=("raw", "message"))
    assert _output_names(analyze(sql)) == [*MATCH_COLUMNS, "raw", "message"]


def test_miner_error_test_and_level_pass_the_analyzer() -> None:
    sql = (
        f"SELECT e.insert_id, {level_sql('e.message', BIGQUERY)} AS level, "
        f"{match_text_sql(BIGQUERY)} AS text FROM log_entries AS e WHERE {error_sql(BIGQUERY)}"
    )
    assert _output_names(analyze(sql)) == ["insert_id", "level", "text"]


def test_the_analyzer_refuses_duckdb_sql() -> None:
    """The check can fail: the DuckDB statement is not GoogleSQL."""
    with pytest.raises(Exception, match=r"MATERIALIZED|regexp_matches|Syntax error"):
        analyze(classification_sql(CATALOG, "TRUE", DUCKDB))
    with pytest.raises(Exception, match="Unrecognized name: no_such_column"):
        analyze("SELECT no_such_column FROM log_entries")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_string_literals_decode_to_the_same_text(text: str) -> None:
    """GoogleSQL escapes: the analyzer reads back exactly the string the dialect quoted."""
    resolved = analyze(f"SELECT {BIGQUERY.literal(text)} AS v")
    value = resolved.query.expr_list[0].expr.value.value.string_value
    assert value == text


def test_extract_pattern_needs_exactly_one_group() -> None:
    """REGEXP_EXTRACT refuses two groups and returns the whole match for none: named early."""
    sig = next(s for s in CATALOG.active() if any(e.regex for e in s.extract))
    for regex, problem in (("(a)(b)", "more than one capture group"), ("ab", "no capture group")):
        bad = replace(sig, extract=(Extract("p", "message", regex, "str"),))
        catalog = replace(CATALOG, signatures=(bad,))
        with pytest.raises(ConfigError, match=re.escape(sig.id) + ".*extract.p.*" + problem):
            classification_sql(catalog, "TRUE", BIGQUERY)
        classification_sql(catalog, "TRUE", DUCKDB)  # DuckDB takes group 1: still compiles


def test_lint_names_an_extract_without_one_group(tmp_path: Path) -> None:
    pattern = tmp_path / "demo" / "tiny.yml"
    pattern.parent.mkdir()
    pattern.write_text(
        "id: demo/tiny\ntitle: Tiny\nstatus: test\ndescription: Detects tiny.\nlevel: low\n"
        "match:\n  selection:\n    message|contains: tiny\n  condition: selection\n"
        "extract:\n  size: 'tiny (\\d+) of (\\d+)'\nfalsepositives: [Unknown]\n"
        "examples:\n  match: [{textPayload: tiny 1 of 2}]\n  no_match: [{textPayload: big}]\n"
    )
    (tmp_path / "catalog.yml").write_text("precedence: [demo/tiny]\n")
    scan = scan_catalog(tmp_path)
    lint_problems(scan)
    assert [(p.key, p.fatal) for p in scan.problems] == [("extract.size", False)]
    assert "more than one capture group" in scan.problems[0].message


def test_contract_columns_are_store_columns() -> None:
    """Each contract column means what the store's column of that name means (one doc)."""
    from forensics.schema import LOG_ENTRY_COLUMNS
    from forensics.signatures.contract import SOURCE_CONTRACT

    store = {c.name for c in LOG_ENTRY_COLUMNS}
    assert all(c.name in store and c.doc for c in SOURCE_CONTRACT)


def _source_tables(schemas: dict[str, list[dict]], kind: str) -> list:
    """The collector's view of each table (forensics.bigquery.source.discover's result)."""
    from google.cloud.bigquery import SchemaField

    from forensics.bigquery.source import SourceTable, _paths

    return [
        SourceTable(table_id, kind, _paths([SchemaField.from_api_repr(f) for f in schema]))
        for table_id, schema in schemas.items()
    ]


@requires_real_staging
@pytest.mark.parametrize("kind", ["analytics", "sink"])
@pytest.mark.parametrize("statement", ["classification", "counts", "entries"])
def test_collector_statements_pass_the_analyzer_over_alllogs_and_sink(
    kind: str, statement: str
) -> None:
    """Every statement collect --bigquery sends, composed over the mapping view of the
    ``_AllLogs`` schema or of the sink tables the real export (and every example) makes."""
    import json

    from forensics.bigquery.source import entries_ctes
    from forensics.bigquery.statements import Caps, counts_sql, entries_sql
    from forensics.signatures.examples import example_entry
    from tests.conftest import REAL_STAGING_ENTRIES
    from tests.googlesql import ALL_LOGS, all_logs_schema, sink_schemas

    lines = REAL_STAGING_ENTRIES.read_text(encoding="utf-8").splitlines()
    examples = [
        json.dumps(example_entry(sig, "match", i, partial))
        for sig in CATALOG.active()
        for i, partial in enumerate(sig.examples_match)
    ]
    entries = tuple(line for line in [*lines, *examples] if line.strip())
    if kind == "analytics":
        tables = _source_tables({ALL_LOGS: all_logs_schema()}, kind)
    else:
        tables = _source_tables(sink_schemas([json.loads(e) for e in entries]), kind)
        assert len(tables) > 3  # stderr, stdout, requests, ... each day: a UNION of branches
    ctes = entries_ctes(tables)
    hits = classification_sql(CATALOG, "TRUE", BIGQUERY, source="log_entries")
    sql = {
        "classification": f"WITH {ctes}, hits AS ({hits}) SELECT * FROM hits",
        "entries": entries_sql(ctes, CATALOG, Caps()),
        "counts": counts_sql(ctes),
    }[statement]
    assert _output_names(analyze(sql, entries if kind == "sink" else ()))
