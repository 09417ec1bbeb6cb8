"""The miner's per-run error texts: stored once, read by every window, never stale.

Each test compares mining on a store whose error texts are stored (and re-stored as runs, masks
or the catalog change) with mining the same entries computed live, on a fresh store.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from forensics.derived import Derived, current_runs, pending_runs, store_pending
from forensics.ingest import ingest_files
from forensics.paths import patterns_dir
from forensics.pipeline import Sources, classify_pending, open_for_reading, prepare_reading
from forensics.signatures import load_catalog
from forensics.signatures.error_texts import ERROR_TEXTS
from forensics.signatures.mining import mine_templates, unexplained_template_ids
from forensics.store import Store, open_store

from .conftest import FIXTURES, REAL_STAGING_ENTRIES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"


def _mined(store: Store, **window: Any) -> list[tuple[Any, ...]]:
    """Everything a template shows, members and example included."""
    return [
        (*t.as_dict().values(), t.members, t.variants, t.example_log_name, t.example_message)
        for t in mine_templates(store, **window)
    ]


def _halves(path: Path, tmp_path: Path) -> tuple[Path, Path]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("".join(lines[::2]), encoding="utf-8")
    second.write_text("".join(lines[1::2]), encoding="utf-8")
    return first, second


def _store(path: Path, *files: Path, sources: Sources | None = None) -> Path:
    """A store holding ``files``, each its own ingest run, classified and mined as ingest does."""
    with open_store(path) as store:
        for file in files:
            ingest_files(store, [file])
            classify_pending(store, sources or Sources.load())
    return path


def _live(path: Path, **window: Any) -> list[tuple[Any, ...]]:
    """Mining with no stored error texts: every row computed from log_entries."""
    with open_store(path) as store:
        store.conn.execute("DELETE FROM derived_runs")
        store.conn.execute("DELETE FROM error_texts")
        return _mined(store, **window)


@pytest.fixture(params=["sample", "real"])
def corpus(request: pytest.FixtureRequest) -> Path:
    if request.param == "real":
        if not REAL_STAGING_ENTRIES.is_file():
            pytest.skip(f"{REAL_STAGING_ENTRIES} is not here")
        return REAL_STAGING_ENTRIES
    return SAMPLE


def test_an_ingest_stores_its_error_texts_and_mining_reads_them(
    corpus: Path, tmp_path: Path
) -> None:
    db = _store(tmp_path / "s.duckdb", corpus)
    with open_store(db) as store:
        assert pending_runs(store, ERROR_TEXTS) == [] and current_runs(store, ERROR_TEXTS) == [1]
        stored_rows = store.scalar("SELECT count(*) FROM error_texts")
        stored = _mined(store)
        ids = unexplained_template_ids(store)
        # the window reads the stored rows, not the entries: marked rows change the answer
        store.conn.execute("UPDATE error_texts SET masked = 'read from error_texts'")
        assert [t.template for t in mine_templates(store)] == ["read from error_texts"]
    assert stored_rows > 0 and stored
    assert stored == _live(db)
    with open_store(db) as store:
        assert ids == unexplained_template_ids(store)


def test_ingesting_more_mines_as_a_fresh_store_does(corpus: Path, tmp_path: Path) -> None:
    first, second = _halves(corpus, tmp_path)
    grown = _store(tmp_path / "grown.duckdb", first)
    with open_store(grown) as store:
        before = _mined(store)
    _store(grown, second)
    fresh = _store(tmp_path / "fresh.duckdb", first, second)
    with open_store(grown) as a, open_store(fresh) as b:
        assert current_runs(a, ERROR_TEXTS) == [1, 2]
        assert _mined(a) == _mined(b) != before


def test_windows_of_the_stored_rows_mine_as_the_entries_do(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", SAMPLE)
    with open_store(db) as store:
        first, last = store.conn.execute(
            'SELECT min("timestamp"), max("timestamp") FROM log_entries'
        ).fetchone() or (None, None)
    middle = first + (last - first) / 2
    for window in (
        {"since": first, "until": middle},
        {"since": middle, "until": last + timedelta(seconds=1)},
        {"since": middle - timedelta(minutes=5), "until": middle + timedelta(minutes=5)},
    ):
        with open_store(db) as store:
            stored = _mined(store, **window)
        assert stored == _live(db, **window)
        with open_store(db) as store:
            assert store_pending(store, ERROR_TEXTS) == [1]  # stored again for the next window


def test_changed_masks_are_computed_live_until_a_writer_stores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _store(tmp_path / "s.duckdb", SAMPLE)
    with open_store(db) as store:
        expected = _mined(store)
    changed = Derived("error_texts", ERROR_TEXTS.rows_sql + " /* other masks */")
    monkeypatch.setattr("forensics.signatures.error_texts.ERROR_TEXTS", changed)
    # stale rows that must not be read: the masks that wrote them are gone
    with open_store(db) as store:
        store.conn.execute("UPDATE error_texts SET masked = 'stale ' || masked")
        assert pending_runs(store, changed) == [1] and current_runs(store, changed) == []
        assert _mined(store) == expected
        assert store_pending(store, changed) == [1]
        assert current_runs(store, changed) == [1] and _mined(store) == expected
        assert not store.scalar("SELECT count(*) FROM error_texts WHERE masked LIKE 'stale %'")


def test_a_run_whose_entry_count_changed_is_computed_live(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", SAMPLE)
    with open_store(db) as store:
        expected = _mined(store)
        store.conn.execute("UPDATE ingest_runs SET accepted = accepted + 1 WHERE ingest_id = 1")
        store.conn.execute("UPDATE error_texts SET masked = 'stale ' || masked")
        assert pending_runs(store, ERROR_TEXTS) == [1]
        assert _mined(store) == expected


def test_a_reader_of_an_unmined_store_computes_the_rows_live(tmp_path: Path) -> None:
    """An older store (no error_texts table) read by `forensics analyze`."""
    db = _store(tmp_path / "s.duckdb", SAMPLE)
    expected = _live(_store(tmp_path / "fresh.duckdb", SAMPLE))
    with open_store(db) as store:
        store.conn.execute("DROP TABLE error_texts")
        store.conn.execute("DROP TABLE derived_runs")
    with open_for_reading(db) as store:
        assert _mined(store) == expected


def test_a_catalog_change_needs_no_new_rows(tmp_path: Path) -> None:
    """Unexplained means "no match" at read time: a reader's in-memory classification with
    another catalog mines as a store classified with that catalog from the start."""
    patterns = tmp_path / "patterns"
    (patterns / "startup").mkdir(parents=True)
    shutil.copy(patterns_dir() / "startup" / "exit-code-3.yml", patterns / "startup")
    (patterns / "catalog.yml").write_text("precedence: [startup/exit-code-3]\n", "utf-8")
    smaller = load_catalog(patterns)
    db = _store(tmp_path / "s.duckdb", SAMPLE)
    fresh = _store(
        tmp_path / "fresh.duckdb", SAMPLE, sources=Sources(smaller, Sources.load().registry)
    )
    with open_for_reading(db) as store:
        classified = _mined(store)
        prepare_reading(store, smaller)
        assert store.scalar("SELECT count(*) FROM error_texts") > 0
        reread = _mined(store)
    with open_store(fresh) as store:
        assert reread == _mined(store) != classified
