"""The end-to-end benchmark's inputs: a given export (--corpus) and a sink's layout (--layout sink).

Held-back measurement runs the benchmark on exports nobody here wrote: the window must follow the
file's own times, not the generated corpus's fixed day. A sink's day is many small files: every
entry must land in the file of its log and hour, once.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

REAL = Path(__file__).resolve().parents[2] / "shared/fixtures/real-staging/entries.jsonl"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import bench_e2e
    finally:
        sys.path.pop(0)
    return bench_e2e


def _latest(lines: list[str]) -> datetime:
    return max(
        datetime.fromisoformat(json.loads(line)["timestamp"].replace("Z", "+00:00"))
        for line in lines
    )


@pytest.mark.parametrize("offset", ["Z", "+02:00"])
def test_window_ends_at_the_minute_after_the_latest_entry(
    bench: ModuleType, tmp_path: Path, offset: str
) -> None:
    if not REAL.is_file():
        pytest.skip(f"{REAL} is not beside this checkout")
    lines = REAL.read_text(encoding="utf-8").splitlines()[:300]
    if offset != "Z":
        # The same instants written in another zone: the window must not move.
        shifted = []
        for line in lines:
            entry = json.loads(line)
            when = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
            local = when.astimezone(datetime.fromisoformat("2000-01-01T00:00:00" + offset).tzinfo)
            entry["timestamp"] = local.isoformat()
            shifted.append(json.dumps(entry))
        lines = shifted
    corpus = tmp_path / "export.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}

    raw = bench._raw([corpus], tmp_path / "raw.duckdb", env)
    end = bench._window_end(tmp_path / "raw.duckdb", env)

    assert raw["rows"] == len(lines)
    latest = _latest(lines).astimezone(UTC)
    assert end - timedelta(minutes=1) <= latest < end
    assert end == latest.replace(second=0, microsecond=0) + timedelta(minutes=1)


def test_the_sink_layout_puts_each_entry_in_its_log_and_hour(
    bench: ModuleType, tmp_path: Path
) -> None:
    if not REAL.is_file():
        pytest.skip(f"{REAL} is not beside this checkout")
    files = bench.write_sink_layout(REAL, tmp_path / "sink")
    lines = [line for line in REAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    placed: list[str] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            log_id = entry["logName"].split("/logs/", 1)[1].replace("%2F", "/")
            when = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
            expected = tmp_path / "sink" / log_id / when.strftime("%Y/%m/%d")
            assert path == expected / when.strftime("%H:00:00_%H:59:59_S0.json")
            placed.append(line)
    assert sorted(placed) == sorted(lines)
    assert len(files) > 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}
    raw = bench._raw(files, tmp_path / "raw.duckdb", env)
    assert raw["rows"] == len(lines)


def _real_lines(n: int | None = None) -> list[str]:
    if not REAL.is_file():
        pytest.skip(f"{REAL} is not beside this checkout")
    lines = [line for line in REAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:n] if n else lines


def test_a_json_array_export_is_loaded_by_duckdbs_array_reader(
    bench: ModuleType, tmp_path: Path
) -> None:
    # `gcloud logging read --format=json` writes one JSON array, not NDJSON.
    lines = _real_lines(400)
    corpus = tmp_path / "export.json"
    corpus.write_text(json.dumps([json.loads(line) for line in lines], indent=2), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}

    raw = bench._raw([corpus], tmp_path / "raw.duckdb", env)

    assert raw["rows"] == len(lines)
    assert raw["tolerant"] == 0
    assert bench._window_end(tmp_path / "raw.duckdb", env) > _latest(lines)


def test_a_bad_line_is_skipped_by_the_raw_load_as_ingest_skips_it(
    bench: ModuleType, tmp_path: Path
) -> None:
    lines = _real_lines(300)
    corpus = tmp_path / "export.jsonl"
    corpus.write_text("\n".join([*lines[:100], "{not json", *lines[100:]]) + "\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}

    raw = bench._raw([corpus], tmp_path / "raw.duckdb", env)

    assert raw["tolerant"] == 1  # the strict load failed; the figure is the tolerant one's
    # DuckDB keeps the line it could not read as a row of NULLs; every other line is loaded
    assert raw["rows"] == len(lines) + 1


def test_a_corpus_duckdb_cannot_read_is_one_line_not_a_traceback(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "export.json"  # an array of something that is not JSON
    corpus.write_text("[these are not log entries]\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}

    with pytest.raises(SystemExit) as stop:
        bench._raw([corpus], tmp_path / "raw.duckdb", env)

    message = str(stop.value.code)
    assert str(corpus) in message and "\n" not in message
    assert "Traceback" not in capsys.readouterr().err


def test_a_directory_corpus_is_its_export_files(bench: ModuleType, tmp_path: Path) -> None:
    # A log sink's day arrives as a directory tree of files, one per log and hour.
    files = bench.write_sink_layout(REAL if REAL.is_file() else _real_lines(), tmp_path / "sink")
    (tmp_path / "sink" / ".hidden").write_text("{}", "utf-8")

    found = bench.corpus_files([tmp_path / "sink"])

    assert sorted(found) == sorted(files)
    assert bench.corpus_files([files[0]]) == [files[0]]
