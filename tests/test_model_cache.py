"""`forensics analyze` again on an unchanged store reads the model the last run kept."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import forensics.pipeline
from forensics.cli import app

from .conftest import FIXTURES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"
UNTIL = "2025-09-17T00:00:00Z"


@pytest.fixture
def store(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORENSICS_CACHE_DIR", str(tmp_path / "cache"))
    db = tmp_path / "s.duckdb"
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--db", str(db)]).exit_code == 0
    return db


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every analysis computed (not read from the cache) from here on."""
    calls: list[Any] = []
    real = forensics.pipeline.build_model

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(forensics.pipeline, "build_model", counting)
    return calls


def _analyze(runner: CliRunner, db: Path, *extra: str) -> str:
    argv = ["analyze", "--until", UNTIL, "--no-collect", "--db", str(db), "--json", *extra]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_an_unchanged_store_is_answered_from_the_kept_model(
    runner: CliRunner, store: Path, builds: list[Any]
) -> None:
    first = _analyze(runner, store)
    second = _analyze(runner, store)
    assert len(builds) == 1
    assert second == first


def test_a_report_model_answers_the_plain_request(
    runner: CliRunner, store: Path, builds: list[Any], tmp_path: Path
) -> None:
    _analyze(runner, store, "--out", str(tmp_path / "out"))
    _analyze(runner, store)
    assert len(builds) == 1


def test_the_kept_model_makes_its_analysis_again_the_same(
    runner: CliRunner, store: Path, builds: list[Any], tmp_path: Path
) -> None:
    """The kept model leaves analysis()'s dicts out (made again when asked): the answer read
    from it is the one the build gave."""
    first = _analyze(runner, store, "--out", str(tmp_path / "out"))
    kept = list((tmp_path / "cache").glob("model-*-report.pickle"))
    assert len(kept) == 1
    assert pickle.loads(kept[0].read_bytes())._analysis is None
    assert _analyze(runner, store) == first
    assert len(builds) == 1


def test_a_changed_store_or_window_is_analysed_again(
    runner: CliRunner, store: Path, builds: list[Any]
) -> None:
    _analyze(runner, store)
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--db", str(store)]).exit_code == 0
    _analyze(runner, store)
    _analyze(runner, store, "--hours", "12")
    assert len(builds) == 3


def test_a_changed_registry_is_analysed_again(
    runner: CliRunner, store: Path, builds: list[Any], tmp_path: Path
) -> None:
    issues = tmp_path / "issues.yaml"
    issues.write_text("settings:\n  min_requests_after_fix: 500\n", encoding="utf-8")
    _analyze(runner, store, "--issues-file", str(issues))
    issues.write_text("settings:\n  min_requests_after_fix: 5\n", encoding="utf-8")
    os.utime(issues, ns=(1, 1))  # a different time even on a coarse clock
    _analyze(runner, store, "--issues-file", str(issues))
    assert len(builds) == 2


def test_a_cache_others_can_write_is_not_read(
    runner: CliRunner, store: Path, builds: list[Any], tmp_path: Path
) -> None:
    _analyze(runner, store)
    (tmp_path / "cache").chmod(0o777)
    _analyze(runner, store)
    assert len(builds) == 2


def test_no_cache_when_turned_off(
    runner: CliRunner, store: Path, builds: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSICS_CACHE_DIR", "")
    _analyze(runner, store)
    _analyze(runner, store)
    assert len(builds) == 2


def test_a_window_ending_now_keeps_no_model(
    runner: CliRunner, store: Path, builds: list[Any], tmp_path: Path
) -> None:
    """Without --until the window moves with every run: nothing could read its model."""
    for _ in range(2):
        argv = ["analyze", "--hours", "24", "--no-collect", "--db", str(store), "--json"]
        assert runner.invoke(app, argv).exit_code == 0
    assert len(builds) == 2
    assert not list((tmp_path / "cache").glob("model-*"))


def test_deploys_and_drift_are_kept_as_columns_and_read_back_the_same(
    runner: CliRunner, store: Path, tmp_path: Path
) -> None:
    """The kept model holds the deploys and drift rows as one list per field
    (forensics.incidents.build.Analysis.__getstate__), read back as the same objects."""
    from dataclasses import fields

    from forensics.incidents.model import DeployMarker, Drift

    _analyze(runner, store, "--out", str(tmp_path / "out"))
    kept = pickle.loads(next((tmp_path / "cache").glob("model-*-report.pickle")).read_bytes())
    state = kept.incidents.__getstate__()
    assert kept.incidents.deploys and kept.incidents.drift  # the sample deploys
    for cls, name in ((DeployMarker, "deploys"), (Drift, "drift")):
        rows = getattr(kept.incidents, name)
        assert all(type(row) is cls for row in rows)
        assert len(state[name]) == len(fields(cls))
        assert state[name][0] == [getattr(row, fields(cls)[0].name) for row in rows]
    again = pickle.loads(pickle.dumps(kept.incidents))
    assert again.deploys == kept.incidents.deploys
    assert again.drift == kept.incidents.drift


def test_the_evidence_is_kept_compressed_and_read_back_the_same(
    runner: CliRunner, store: Path, tmp_path: Path
) -> None:
    """The evidence rows (one per issue and line, their strings repeated row after row) are
    kept as compressed Arrow IPC, much smaller than pickled, and read back equal."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from forensics.incidents.build import packed_frame, unpacked_frame

    _analyze(runner, store, "--out", str(tmp_path / "out"))
    kept = pickle.loads(next((tmp_path / "cache").glob("model-*-report.pickle")).read_bytes())
    evidence = kept.incidents.evidence
    assert evidence.height  # the sample has evidence
    assert isinstance(kept.incidents.__getstate__()["evidence"], bytes)
    assert_frame_equal(pickle.loads(pickle.dumps(kept.incidents)).evidence, evidence)
    # a busy day's evidence: the same few issues, logs and instances on every row
    busy = pl.concat([evidence] * 1000)
    assert len(packed_frame(busy)) < len(pickle.dumps(busy)) / 2
    assert_frame_equal(unpacked_frame(packed_frame(busy)), busy)
