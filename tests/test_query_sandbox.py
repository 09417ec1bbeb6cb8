"""`forensics query` runs SQL in a sandbox: it reads the store and nothing else.

Each escape of issue 12 is tried against a real store: the command fails with a one-line error
(exit 2), no file appears or changes outside the store, and the store still holds its rows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.ingest import ingest_texts
from forensics.store import open_store
from tests.snapdata import EXIT3, entries_for


@pytest.fixture
def stores(tmp_path: Path) -> tuple[Path, Path]:
    """The store under test (a few entries) and another store an ATTACH could reach."""
    store_path = tmp_path / "store.duckdb"
    with open_store(store_path) as store:
        start = datetime(2025, 9, 16, tzinfo=UTC)
        texts = [json.dumps(e) for e in entries_for(EXIT3, "svc-a", start, 5, timedelta(hours=1))]
        assert ingest_texts(store, texts, "test").accepted == 5
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as conn:
        conn.execute("CREATE TABLE keep AS SELECT 42 AS answer")
    return store_path, other


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


ESCAPES = {
    "copy-over-store": "COPY (SELECT 'x') TO '{store}'",
    "copy-elsewhere": "COPY (SELECT 'x') TO '{tmp}/written.csv'",
    "export-database": "EXPORT DATABASE '{tmp}/exported'",
    "attach-read-write": "ATTACH '{other}' AS o (READ_WRITE); DROP TABLE o.keep",
    "attach-plain": "ATTACH '{other}' AS o",
    "drop-in-store": "DROP VIEW entries",
    "install-httpfs": "INSTALL httpfs",
    "load-httpfs": "LOAD httpfs",
    "read-text": "SELECT * FROM read_text('/etc/passwd')",
    "read-csv": "SELECT * FROM read_csv('/etc/passwd')",
    "glob": "SELECT * FROM glob('/etc/*')",
    "scan-other-store": "SELECT * FROM '{other}'",
    "unlock-settings": "SET enable_external_access = true",
    "reset-lock": "RESET lock_configuration",
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_escape_fails_and_touches_nothing(
    runner: CliRunner, stores: tuple[Path, Path], name: str
) -> None:
    store_path, other = stores
    tmp = store_path.parent
    before = {p.name for p in tmp.iterdir()}
    digests = (_digest(store_path), _digest(other))
    sql = ESCAPES[name].format(store=store_path, tmp=tmp, other=other)
    result = runner.invoke(app, ["query", "--db", str(store_path), sql])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(error_lines) == 1 and error_lines[0].startswith("error: query failed:")
    assert {p.name for p in tmp.iterdir()} == before
    assert (_digest(store_path), _digest(other)) == digests
    with open_store(store_path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM entries") == 5
    with duckdb.connect(str(other), read_only=True) as conn:
        assert conn.execute("SELECT answer FROM keep").fetchone() == (42,)


def test_reading_the_store_still_works(runner: CliRunner, stores: tuple[Path, Path]) -> None:
    store_path, _ = stores
    result = runner.invoke(
        app, ["query", "--db", str(store_path), "-f", "json", "SELECT count(*) AS n FROM entries"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 5}]
    named = runner.invoke(app, ["query", "--db", str(store_path), "--list"])
    assert named.exit_code == 0
