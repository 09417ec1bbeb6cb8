"""One owner of the pipeline: writers classify and mark runs, readers never write (read-only)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.ingest import ingest_files
from forensics.paths import patterns_dir
from forensics.pipeline import (
    Sources,
    build_model,
    classify_pending,
    open_for_reading,
    prepare_reading,
    stale_runs,
)
from forensics.signatures import load_catalog
from forensics.store import open_store
from forensics.timeutil import window_ending

from .conftest import FIXTURES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"
UNTIL = "2025-09-17T00:00:00Z"
WINDOW = ["--hours", "720", "--until", UNTIL]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    """A store filled by `forensics ingest` (which classifies what it adds)."""
    db = tmp_path / "store.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(SAMPLE), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def read_only(ingested: Path) -> Iterator[Path]:
    ingested.chmod(0o444)
    try:
        yield ingested
    finally:
        ingested.chmod(0o644)


def test_ingest_classifies_and_an_unchanged_store_classifies_nothing(ingested: Path) -> None:
    catalog = load_catalog()
    with open_store(ingested) as store:
        assert stale_runs(store, catalog.version) == []
        matches = store.scalar("SELECT count(*) FROM signature_matches")
        assert matches > 0
        again = classify_pending(store, catalog)
        assert again.stale_runs == () and not again.saved
        marks = store.query("SELECT ingest_id, catalog_version FROM classified_runs")
        assert marks.rows() == [(1, catalog.version)]


@pytest.mark.parametrize("command", ["analyze", "report", "incidents", "issues"])
def test_reading_commands_work_on_a_read_only_store_file(
    read_only: Path, tmp_path: Path, command: str
) -> None:
    assert not os.access(read_only, os.W_OK) or os.geteuid() == 0
    before = _digest(read_only)
    args = [command, *WINDOW, "--db", str(read_only)]
    args += ["--out", str(tmp_path / "out")] if command == "report" else ["--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _digest(read_only) == before  # a reader writes nothing
    if command == "report":
        assert (tmp_path / "out" / "report.json").is_file()


def test_library_readers_work_on_a_store_opened_read_only(ingested: Path) -> None:
    window = window_ending(720, UNTIL)
    with open_store(ingested, read_only=True) as store:
        model = build_model(store, window, Sources.load(), report=True)
    assert model.classification.note() is None
    assert model.incidents.incidents and model.report is not None
    assert sum(model.signature_counts["n"]) > 0


def test_a_changed_catalog_is_classified_in_memory_and_said_once(
    read_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader never writes: with a newer catalog it classifies in memory and says so."""
    old = load_catalog().version
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    target = copy / "startup" / "exit-code-3.yml"
    target.write_text(target.read_text().replace("level: high", "level: critical", 1))
    monkeypatch.setenv("FORENSICS_PATTERNS_DIR", str(copy))
    new = load_catalog(copy)
    assert new.version != old
    before = _digest(read_only)
    result = CliRunner().invoke(app, ["analyze", *WINDOW, "--db", str(read_only), "--json"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and f"catalog {new.version}" in notes[0] and "not saved" in notes[0]
    data = json.loads(result.stdout)
    assert data["analysis_notes"]["classification"]["in_memory"] is True
    assert data["catalog_version"] == new.version
    assert _digest(read_only) == before
    # every match the answer used is of the new catalog: no two versions mix
    with open_for_reading(read_only) as store:
        prepare_reading(store, new)
        versions = store.query("SELECT DISTINCT catalog_version FROM signature_matches")
        assert versions["catalog_version"].to_list() == [new.version]


def test_patterns_apply_saves_the_new_classification(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    target = copy / "startup" / "exit-code-3.yml"
    target.write_text(target.read_text().replace("level: high", "level: critical", 1))
    new = load_catalog(copy)
    runner = CliRunner()
    out = runner.invoke(app, ["patterns", "apply", "--patterns", str(copy), "--db", str(ingested)])
    assert out.exit_code == 0 and "classified 1 ingest run" in out.output
    out = runner.invoke(app, ["patterns", "apply", "--patterns", str(copy), "--db", str(ingested)])
    assert "classified 0 ingest runs (the store was up to date)" in out.output
    with open_store(ingested, read_only=True) as store:
        assert stale_runs(store, new.version) == []
        versions = store.query("SELECT DISTINCT catalog_version FROM signature_matches")
        assert versions["catalog_version"].to_list() == [new.version]


def test_a_library_ingest_is_read_in_memory_until_classified(tmp_path: Path) -> None:
    """Ingest without classification (a library caller): readers still answer, and say so."""
    db = tmp_path / "raw.duckdb"
    with open_store(db) as store:
        ingest_files(store, [SAMPLE])
    window = window_ending(720, UNTIL)
    with open_for_reading(db) as store:
        model = build_model(store, window, Sources.load())
        stored = store.scalar(
            f'SELECT count(*) FROM "{store.scalar("SELECT current_database()")}"'
            ".main.signature_matches"
        )
    assert stored == 0 and model.classification.in_memory
    assert model.incidents.incidents


def test_a_missing_store_reads_as_empty(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", *WINDOW, "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 0, result.output
    assert "The store is empty" in result.output
    assert not (tmp_path / "none.duckdb").exists()


def test_the_library_never_imports_the_cli() -> None:
    code = (
        "import sys\n"
        "import forensics.pipeline, forensics.analysis, forensics.report, forensics.snapshots\n"
        "import forensics.watch.monitor, forensics.incidents, forensics.collectors.collect\n"
        "bad = sorted(m for m in sys.modules if m.startswith('forensics.cli'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_store_from_an_older_version_reads_read_only(ingested: Path) -> None:
    """Tables added since the store was written read as empty; nothing is written."""
    import duckdb

    conn = duckdb.connect(str(ingested))
    for table in ("classified_runs", "signals", "data_gaps", "snapshots"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DROP VIEW entries")
    conn.close()
    before = _digest(ingested)
    result = CliRunner().invoke(app, ["analyze", *WINDOW, "--db", str(ingested), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["incidents"] and data["analysis_notes"]["classification"]["in_memory"]
    assert _digest(ingested) == before


def test_a_duckdb_file_that_is_no_store_is_one_clear_line(tmp_path: Path) -> None:
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    result = CliRunner().invoke(app, ["analyze", *WINDOW, "--db", str(other)])
    assert result.exit_code == 2
    assert "not a forensics store (no log_entries table)" in result.output


def _analyze(db: Path) -> tuple[list[str], dict[str, object]]:
    result = CliRunner().invoke(app, ["analyze", *WINDOW, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    return notes, json.loads(result.stdout)


def test_per_run_tables_a_store_lacks_are_said_in_one_line_until_saved(ingested: Path) -> None:
    """Per-run tables whose SQL changed since the store was written are computed from the
    entries for every answer: analyze says which, and the command that saves them; after it,
    nothing is said and the answer is the same."""
    notes, fresh = _analyze(ingested)
    assert notes == [] and fresh["issues"] and fresh["incidents"]  # ingest wrote every one
    with open_store(ingested) as store:  # as if error_causes' SQL changed since
        store.conn.execute(
            "UPDATE derived_runs SET version = 'older' WHERE derived = 'error_causes'"
        )
    notes, stale = _analyze(ingested)
    assert len(notes) == 1, notes
    assert "(error_causes)" in notes[0] and "`forensics patterns apply`" in notes[0]
    assert notes[0].endswith("saves them")  # one line, however long
    result = CliRunner().invoke(app, ["patterns", "apply", "--db", str(ingested)])
    assert result.exit_code == 0, result.output
    assert "per-run tables saved: error_causes" in result.stdout
    notes, saved = _analyze(ingested)
    assert notes == []
    for answer in (stale, saved):  # the stored rows and the computed ones answer the same
        assert answer["issues"] == fresh["issues"] and answer["incidents"] == fresh["incidents"]


def test_a_per_run_table_of_an_older_layout_is_read_as_computed_then_rebuilt(
    ingested: Path,
) -> None:
    """A per-run table whose columns changed since the store was written (its SQL changed
    with them, so no run's rows are current): readers answer from the entries instead of
    failing on the old columns, and the next writer rebuilds it in today's layout."""
    import duckdb

    notes, fresh = _analyze(ingested)
    assert notes == []
    declared = duckdb.connect(str(ingested))
    layout = declared.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'error_causes'"
    ).fetchall()
    declared.execute("DROP TABLE error_causes")  # as an older version wrote it
    declared.execute("CREATE TABLE error_causes (ingest_id BIGINT, cause VARCHAR, n INTEGER)")
    declared.execute("INSERT INTO error_causes VALUES (1, 'old', 1)")
    declared.execute("UPDATE derived_runs SET version = 'older' WHERE derived = 'error_causes'")
    declared.close()
    notes, older = _analyze(ingested)
    assert len(notes) == 1 and "(error_causes)" in notes[0]
    assert older["issues"] == fresh["issues"] and older["incidents"] == fresh["incidents"]
    result = CliRunner().invoke(app, ["patterns", "apply", "--db", str(ingested)])
    assert result.exit_code == 0, result.output
    notes, rebuilt = _analyze(ingested)
    assert notes == []
    assert rebuilt["issues"] == fresh["issues"] and rebuilt["incidents"] == fresh["incidents"]
    with open_store(ingested, read_only=True) as store:
        now = store.conn.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'error_causes'"
        ).fetchall()
        assert now == layout


def test_the_per_run_tables_the_schema_names_are_the_ones_the_writers_keep() -> None:
    from forensics.derived_tables import derived_tables
    from forensics.schema import PER_RUN_TABLES

    version = load_catalog(patterns_dir()).version
    assert {d.table for d in derived_tables(version)} == PER_RUN_TABLES
