"""Shared test fixtures: real DuckDB stores, fixture paths, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from forensics.store import Store, open_store

# Tests touch nothing beyond 127.0.0.1 (emulator); keep any proxy settings off loopback.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# Each test computes its analysis: the kept-model cache (forensics.model_cache) is off unless a
# test turns it on in a directory of its own.
os.environ["FORENSICS_CACHE_DIR"] = ""

# Property tests: `make test` (and CI) draws the same examples every run, so a submission's
# result does not depend on the draw; `make fuzz` draws fresh ones each run to look for new
# failures (each becomes a named regression test, e.g. tests/test_hostile_ingest.py's cases).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("FORENSICS_HYPOTHESIS", "repeatable"))

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_REAL_STAGING = (
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "real-staging"
)
REAL_STAGING_ENTRIES = SHARED_REAL_STAGING / "entries.jsonl"
# The full real export lives in ../shared beside the checkout (CI has it); a checkout without
# it skips, saying why, instead of failing on an empty corpus.
requires_real_staging = pytest.mark.skipif(
    not REAL_STAGING_ENTRIES.is_file(), reason=f"{REAL_STAGING_ENTRIES} is not here"
)

# loghub's labelled samples for template mining (issue 13) live beside the real export.
LOGHUB_DEV = SHARED_REAL_STAGING.parent / "loghub-dev"
requires_loghub_dev = pytest.mark.skipif(
    not any(LOGHUB_DEV.glob("*_structured.csv")), reason=f"{LOGHUB_DEV} is not here"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in a real DuckDB file."""
    with open_store(tmp_path / "store.duckdb") as opened:
        yield opened


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# Report tests: modules that define a module-scoped `store_path` share these two.
@pytest.fixture
def report_store(store_path: Path) -> Iterator[Store]:
    """The module's report store, open for one test."""
    with open_store(store_path) as opened:
        yield opened


@pytest.fixture(scope="module")
def report(store_path: Path) -> dict[str, Any]:
    """The report context of the module's store (golden window, the demo's issue claims)."""
    from tests.reportdata import report_context

    with open_store(store_path) as opened:
        return report_context(opened)


@pytest.fixture(scope="session")
def bq_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real BigQuery emulator on 127.0.0.1 (tests/bqemu.py); fails, never skips, when absent."""
    from tests import bqemu

    try:
        emulator = bqemu.start(tmp_path_factory.mktemp("bqemu"))
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        yield emulator
    finally:
        emulator.stop()
