"""The classification statement runs without DuckDB's expression rewriter and common-subexpression
pass (cheaper to plan and run on it): the same matches as with them, and the connection's own
setting is back afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

import forensics.signatures.classify as classify
from forensics.ingest import ingest_files
from forensics.signatures import classify_store
from forensics.signatures.catalog import load_catalog
from forensics.store import Store, open_store
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging

_SAMPLE = Path(__file__).parent / "fixtures" / "real_staging_sample.jsonl"


def _disabled(store: Store) -> str:
    return str(store.scalar("SELECT current_setting('disabled_optimizers')"))


def _matches(path: Path, db: Path) -> list[tuple[object, ...]]:
    with open_store(db) as store:
        ingest_files(store, [path])
        classify_store(store, load_catalog())
        return store.conn.execute(
            "SELECT * EXCLUDE (params), params::VARCHAR FROM signature_matches ORDER BY ALL"
        ).fetchall()


@pytest.mark.parametrize(
    "path", [_SAMPLE, pytest.param(REAL_STAGING_ENTRIES, marks=requires_real_staging)]
)
def test_same_matches_as_with_every_optimizer(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lean = _matches(path, tmp_path / "lean.duckdb")
    monkeypatch.setattr(classify, "LEAN_OPTIMIZERS", ())
    full = _matches(path, tmp_path / "full.duckdb")
    assert lean, "no match at all: the comparison would pass vacuously"
    assert lean == full


def test_the_setting_is_extended_then_restored(store: Store) -> None:
    store.conn.execute("SET disabled_optimizers = 'join_order'")
    with classify.lean_planning(store.conn):
        inside = set(_disabled(store).split(","))
    assert inside == {"join_order", *classify.LEAN_OPTIMIZERS}
    classify_store(store, load_catalog())
    assert _disabled(store) == "join_order"


def test_locked_settings_are_left_alone(store: Store) -> None:
    store.conn.execute("SET lock_configuration = true")
    with classify.lean_planning(store.conn):
        assert _disabled(store) == ""
    classify_store(store, load_catalog())
    assert _disabled(store) == ""
