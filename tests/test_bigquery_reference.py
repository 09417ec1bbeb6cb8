"""The BigQuery dialect gives the DuckDB path's results, run in Google's reference implementation.

The same entries go through the store's DuckDB statement and through the BigQuery statement
executed by ZetaSQL's reference evaluator (``tests/googlesql.py``: Google's own implementation
of GoogleSQL semantics, offline) over the store's contract columns; matches (identity,
signature, primary, params), the match text and the miner's error test must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.ingest import ingest_texts
from forensics.signatures.catalog import load_catalog
from forensics.signatures.compile import classification_sql
from forensics.signatures.contract import SOURCE_CONTRACT
from forensics.signatures.dialect import BIGQUERY, DUCKDB, Dialect
from forensics.signatures.examples import example_entry
from forensics.signatures.matchtext import match_text_sql
from forensics.signatures.mining import error_sql
from forensics.store import open_store
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging
from tests.googlesql import execute

CATALOG = load_catalog()


def _matches_sql(dialect: Dialect) -> str:
    inner = classification_sql(CATALOG, "TRUE", dialect)
    return f"SELECT insert_id, signature, is_primary, CAST(params AS STRING) FROM ({inner})"


def _text_sql(dialect: Dialect) -> str:
    return (
        f"SELECT insert_id, {match_text_sql(dialect)}, {error_sql(dialect)} FROM log_entries AS e"
    )


def _normal(rows: Sequence[Sequence[Any]]) -> list[str]:
    """Rows as sorted JSON, a JSON text column (params) parsed so key order does not count."""
    out = []
    for row in rows:
        values = list(row)
        if len(values) == 4 and isinstance(values[3], str):
            values[3] = json.loads(values[3])
        out.append(json.dumps(values, sort_keys=True))
    return sorted(out)


def _example_entries() -> list[dict[str, Any]]:
    """Every example, each on its own instance as ``patterns test`` runs them (independent
    lines: split-traceback joining is per instance)."""
    entries = [
        example_entry(sig, kind, i, partial)
        for sig in CATALOG.active()
        for kind, items in (("match", sig.examples_match), ("no_match", sig.examples_no_match))
        for i, partial in enumerate(items)
    ]
    for position, entry in enumerate(entries):
        entry.setdefault("labels", {"instanceId": f"example-{position}"})
    return entries


def _statements() -> tuple[dict[str, str], dict[str, str]]:
    duck = {"matches": _matches_sql(DUCKDB), "text": _text_sql(DUCKDB)}
    bq = {"matches": _matches_sql(BIGQUERY), "text": _text_sql(BIGQUERY)}
    return duck, bq


def _compare(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The matches, after checking both engines agree on them and on the match text."""
    duck, bq = _statements()
    with open_store(":memory:") as store:
        ingest_texts(store, [json.dumps(e) for e in entries], "entries")
        columns = ", ".join(DUCKDB.ident(c.name) for c in SOURCE_CONTRACT)
        source = store.conn.execute(f"SELECT {columns} FROM log_entries").fetchall()
        local = {name: store.conn.execute(text).fetchall() for name, text in duck.items()}
    assert len(source) == len(entries)
    for name, text in bq.items():
        assert _normal(execute(text, {"log_entries": source})) == _normal(local[name]), name
    return local["matches"]


def test_every_signature_example_gives_equal_matches() -> None:
    entries = _example_entries()
    matched = _compare(entries)
    # the examples do match: equal results are not two empty sets
    assert len(matched) >= sum(len(s.examples_match) for s in CATALOG.active())


@requires_real_staging
def test_real_export_gives_equal_matches() -> None:
    lines = REAL_STAGING_ENTRIES.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    assert _compare(entries)


def test_split_traceback_chunks_are_joined_alike() -> None:
    """Cloud Run's chunks of one traceback are joined in BigQuery as in DuckDB (splittrace)."""
    from tests import test_split_traceback as split

    texts = [
        split._entry(split.HEADER, 1),
        split._entry(split.FAILURE, 2),
        split._entry(split.SOCKET_LINE, 3),
        split._entry(split.HEADER, 1, "00ab2"),  # another instance: not joined
        split._entry(split.FAILURE, 2, "00ab2"),
        split._entry(split.SOCKET_LINE, 1000, "00ab2"),
    ]
    matched = _compare([json.loads(t) for t in texts])
    assert [(row[0], row[1]) for row in matched] == [("e3-00ab1", "cloudsql/socket-failure")]


# Hostile texts: the pieces match text treats specially (traceback lines, escaped newlines,
# frames, chaining sentences, query quotes), regex and quoting metacharacters, non-ASCII.
_PIECES = st.sampled_from(
    [
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 12, in <module>',
        "    raise ValueError('x')",
        "ValueError: boom",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection failed",
        "The above exception was the direct cause of the following exception:",
        "\tat com.example.Main.run(Main.java:42)",
        "Caused by: java.net.SocketTimeoutException: Read timed out",
        'textPayload:"Out of memory"',
        "\\n",
        "\n",
        "'",
        "\\",
        "%",
        "é ✓ 日本",
        "ERROR",
        "[CRITICAL]",
        "Memory limit of 512 MiB exceeded with 530 MiB used.",
        "upstream request timeout",
        "(?i)",
    ]
)
_TEXTS = st.lists(_PIECES, max_size=8).map("".join)
_ENTRY = st.fixed_dictionaries(
    {
        "severity": st.sampled_from(["DEFAULT", "INFO", "WARNING", "ERROR", "CRITICAL"]),
        "text": _TEXTS,
        "error": st.one_of(st.none(), _TEXTS, st.fixed_dictionaries({"message": _TEXTS})),
        "json": st.booleans(),
    }
)


def _entry(n: int, spec: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "timestamp": f"2026-01-01T00:00:{n:02d}Z",
        "insertId": f"h{n}",
        "severity": spec["severity"],
    }
    if spec["json"] or spec["error"] is not None:
        payload: dict[str, Any] = {"message": spec["text"]}
        if spec["error"] is not None:
            payload["error"] = spec["error"]
        entry["jsonPayload"] = payload
    else:
        entry["textPayload"] = spec["text"]
    return entry


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ENTRY, min_size=1, max_size=40))
def test_hostile_texts_give_equal_match_text_and_matches(specs: list[dict[str, Any]]) -> None:
    _compare([_entry(n, spec) for n, spec in enumerate(specs)])
