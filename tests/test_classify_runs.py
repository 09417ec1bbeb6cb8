"""Several ingest runs classified in one statement (forensics.signatures.classify_runs) get the
rows and marks each gets classified alone, split tracebacks included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forensics.incidents.classified import current_catalog
from forensics.ingest import ingest_files
from forensics.signatures.classify import classify_store
from forensics.signatures.classify_runs import classify_runs
from forensics.store import Store, open_store

from .conftest import REAL_STAGING_ENTRIES, requires_real_staging

FILES = 7


def _state(store: Store) -> tuple[list[Any], list[Any]]:
    matches = store.conn.execute("SELECT * FROM signature_matches ORDER BY ALL").fetchall()
    marks = store.conn.execute(
        "SELECT ingest_id, catalog_version, matches FROM classified_runs ORDER BY ALL"
    ).fetchall()
    return matches, marks


def _forget(store: Store) -> None:
    store.conn.execute("DELETE FROM signature_matches")
    store.conn.execute("DELETE FROM classified_runs")


@requires_real_staging
def test_runs_classified_together_get_the_rows_of_runs_classified_alone(tmp_path: Path) -> None:
    # The real export dealt round-robin into files: a traceback's chunks land in different runs,
    # where classified alone they cannot be joined.
    lines = [line for line in REAL_STAGING_ENTRIES.read_text().splitlines() if line.strip()]
    paths = []
    for n in range(FILES):
        path = tmp_path / f"part-{n}.jsonl"
        path.write_text("".join(line + "\n" for line in lines[n::FILES]))
        paths.append(path)
    catalog = current_catalog()
    with open_store(tmp_path / "store.duckdb") as store:
        ingest_files(store, paths)
        runs = [
            r[0]
            for r in store.conn.execute(
                "SELECT ingest_id FROM ingest_runs WHERE accepted > 0 ORDER BY 1"
            ).fetchall()
        ]
        assert len(runs) == FILES
        for run in runs:
            classify_store(store, catalog, ingest_id=run)
        alone = _state(store)
        _forget(store)
        classify_runs(store, catalog, runs)
        together = _state(store)
    assert alone[0]  # the export has matches to compare
    assert together == alone


@pytest.mark.parametrize("batch", [1, 2, 10**9])
def test_runs_are_grouped_up_to_the_batch_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    import forensics.signatures.classify_runs as module

    monkeypatch.setattr(module, "BATCH_ENTRIES", batch)
    statements: list[int] = []
    real = module._classify_group

    def counted(store: Store, catalog: Any, runs: list[int], mark: bool) -> None:
        statements.append(len(runs))
        real(store, catalog, runs, mark)

    monkeypatch.setattr(module, "_classify_group", counted)
    entry = (
        '{"logName": "projects/p/logs/run", "timestamp": "2025-09-16T10:00:0%dZ", '
        '"insertId": "i%d", "severity": "ERROR", "textPayload": "boom %d"}\n'
    )
    paths = []
    for n in range(3):
        path = tmp_path / f"f{n}.jsonl"
        path.write_text(entry % (n, n, n))
        paths.append(path)
    with open_store(tmp_path / "store.duckdb") as store:
        ingest_files(store, paths)
        runs = [r[0] for r in store.conn.execute("SELECT ingest_id FROM ingest_runs").fetchall()]
        classify_runs(store, current_catalog(), runs)
        marked = store.scalar("SELECT count(*) FROM classified_runs")
    assert sum(statements) == 3 and marked == 3
    assert statements == ([1, 1, 1] if batch < 2 else [2, 1] if batch == 2 else [3])


def test_a_traceback_split_across_runs_is_joined_only_within_each_run(tmp_path: Path) -> None:
    from forensics.signatures.contract import SOURCE_CONTRACT
    from forensics.signatures.splittrace import split_traceback_ctes

    # Cloud Run cut what the process wrote into three entries; the hour's file ends after two.
    lines = [
        'Traceback (most recent call last):\n  File "/app/smd.py", line 412, in _phase3_database',
        "    await asyncio.wait_for(init_db(), timeout=25.0)",
        "TimeoutError: database initialization timed out",
    ]
    entry = (
        '{"logName": "projects/p/logs/run", "timestamp": "2025-09-16T10:00:0%dZ", '
        '"insertId": "t%d", "severity": "ERROR", "textPayload": %s, '
        '"resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}}, '
        '"labels": {"instanceId": "i-1"}}\n'
    )
    import json

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(entry % (n, n, json.dumps(lines[n])) for n in range(2)))
    second.write_text(entry % (2, 2, json.dumps(lines[2])))
    columns = ", ".join(f'"{c.name}"' for c in SOURCE_CONTRACT) + ", ingest_id"
    with open_store(tmp_path / "store.duckdb") as store:
        ingest_files(store, [first, second])

        def messages(where: str, per_run: bool) -> dict[str, str]:
            ctes = split_traceback_ctes(columns, "log_entries", where, "TRUE", per_run=per_run)
            rows = store.conn.execute(f"WITH {ctes} SELECT insert_id, message FROM gated")
            return dict(rows.fetchall())

        alone = messages("ingest_id = 1", False) | messages("ingest_id = 2", False)
        together = messages("ingest_id IN (1, 2)", True)
        across = messages("ingest_id IN (1, 2)", False)
    assert together == alone
    assert across != alone  # one scope without per_run joins the runs' chunks into one
