"""Shared inputs for the incidents tests: one demo store built once per session, real fixtures."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from forensics.demo import Scenario, generate_entries, scenario
from forensics.incidents import Registry, load_registry
from forensics.ingest import ingest_texts
from forensics.paths import patterns_dir
from forensics.signatures import classify_store, load_catalog
from forensics.store import open_store
from forensics.timeutil import Window

DEMO_END = datetime(2026, 3, 10, tzinfo=UTC)
DEMO_HOURS = 24
DEMO_ENTRIES = 30_000
DEMO_WINDOW = Window(datetime(2026, 3, 9, tzinfo=UTC), DEMO_END)
FIXTURES = Path(__file__).parent / "fixtures"


@lru_cache(maxsize=1)
def demo_entries() -> tuple[dict[str, Any], ...]:
    """The demo day's entries as generated (the raw side of independent checks)."""
    return tuple(generate_entries(DEMO_ENTRIES, DEMO_END, DEMO_HOURS))


@lru_cache(maxsize=1)
def _demo_master() -> Path:
    """The demo window ingested and classified once; tests copy it before writing."""
    path = Path(tempfile.mkdtemp(prefix="forensics-incidents-")) / "demo.duckdb"
    texts = [json.dumps(e) for e in demo_entries()]
    with open_store(path) as store:
        ingest_texts(store, texts, "demo")
        classify_store(store, load_catalog())
    return path


def demo_store_copy(directory: Path) -> Path:
    """A private copy of the demo store in ``directory``."""
    target = directory / "demo.duckdb"
    shutil.copy(_demo_master(), target)
    return target


def demo_truth() -> Scenario:
    return scenario(DEMO_END, DEMO_HOURS)


def demo_registry() -> Registry:
    """The shipped registry with the demo's claims layered on (patterns/issues.demo.yaml)."""
    return load_registry(patterns_dir() / "issues.demo.yaml")
