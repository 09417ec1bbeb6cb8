"""Small clean NDJSON files loaded together (forensics.fastload.load_files_as_runs): one statement,
still one ingest run per file, storing exactly what loading each file on its own stores.

A log sink writes a file per log and hour; loaded one by one, each small file's commit went
through the WAL and was written again at the checkpoint.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from forensics import fastload, ingest
from forensics.ingest import BATCH_SIZE, IngestResult, ingest_files
from forensics.store import open_store

from .conftest import REAL_STAGING_ENTRIES, requires_real_staging


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _sink(tmp_path: Path, parts: int = 5) -> list[Path]:
    """The real export cut into ``parts`` files, by log as a sink does, then in pieces."""
    lines = [line for line in REAL_STAGING_ENTRIES.read_text("utf-8").splitlines() if line.strip()]
    by_log: dict[str, list[str]] = {}
    for line in lines:
        by_log.setdefault(json.loads(line)["logName"].rsplit("/", 1)[-1], []).append(line)
    files = []
    for log, entries in sorted(by_log.items()):
        step = -(-len(entries) // parts)
        for k in range(0, len(entries), step):
            name = f"{log.replace('%2F', '_')}/{k // step:02d}:00:00_{k // step:02d}:59:59_S0.json"
            files.append(_write(tmp_path / "sink" / name, entries[k : k + step]))
    return files


def _store_state(db: Path, paths: list[Path], batch_size: int) -> tuple[IngestResult, Any, Any]:
    """Ingest ``paths`` into a new store ``db``: the result, its rows and its runs."""
    with open_store(db) as store:
        result = ingest_files(store, paths, batch_size=batch_size)
        rows = store.conn.execute(
            "SELECT * EXCLUDE (ingest_id) FROM log_entries "
            'ORDER BY log_name, insert_id, "timestamp", source, raw'
        ).fetchall()
        runs = store.conn.execute(
            "SELECT source, accepted, duplicates, rejected, status FROM ingest_runs "
            "ORDER BY ingest_id"
        ).fetchall()
    return result, rows, runs


def _as_each_alone(
    tmp_path: Path, paths: list[Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[IngestResult, Any]:
    """Ingest ``paths`` the default way, asserting it stores what the reader's path stores
    file by file (a batch size other than the default asks for it), and that the files were
    loaded together at least once."""
    calls = 0
    real = fastload.load_files_as_runs

    def counted(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args)

    monkeypatch.setattr(ingest, "load_files_as_runs", counted)
    together = _store_state(tmp_path / "together.duckdb", paths, BATCH_SIZE)
    alone = _store_state(tmp_path / "alone.duckdb", paths, BATCH_SIZE - 1)
    assert calls >= 1
    assert together[1] == alone[1]
    assert together[2] == alone[2]
    assert [str(r) for r in together[0].rejections] == [str(r) for r in alone[0].rejections]
    assert together[0].errors == alone[0].errors
    return together[0], together[2]


@requires_real_staging
def test_a_sink_day_loads_together_with_each_files_rows_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _sink(tmp_path)
    result, runs = _as_each_alone(tmp_path, paths, monkeypatch)
    lines = sum(len(p.read_text("utf-8").splitlines()) for p in paths)
    assert len(runs) == len(paths)
    assert [r[0] for r in runs] == [str(p) for p in paths]
    assert {r[4] for r in runs} == {"complete"}
    assert result.accepted + result.duplicates == lines


@requires_real_staging
def test_overlapping_files_count_repeats_on_the_later_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = REAL_STAGING_ENTRIES.read_text("utf-8").splitlines()[:600]
    first = _write(tmp_path / "a.json", lines[:400])
    second = _write(tmp_path / "b.json", lines[200:])  # repeats first's last 200
    result, runs = _as_each_alone(tmp_path, [first, second], monkeypatch)
    # The fixture itself holds repeats; the later run's are at least the overlap.
    assert runs[1][2] >= 200
    assert result.duplicates == runs[0][2] + runs[1][2]


def test_the_same_file_twice_is_repeated_not_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [
        json.dumps(
            {
                "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
                "timestamp": f"2025-09-16T10:00:{i:02d}Z",
                "insertId": f"id-{i}",
                "textPayload": f"line {i}",
            }
        )
        for i in range(30)
    ]
    path = _write(tmp_path / "one.json", entries)
    other = _write(tmp_path / "two.json", entries[:5])
    relative = Path(path.name)
    monkeypatch.chdir(tmp_path)
    _, runs = _as_each_alone(tmp_path, [path, other, relative, path], monkeypatch)
    assert [r[1:3] for r in runs] == [(30, 0), (0, 5), (0, 30), (0, 30)]


@requires_real_staging
def test_a_damaged_file_among_them_is_named_and_the_others_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _sink(tmp_path, parts=3)
    damaged = paths[len(paths) // 2]
    text = damaged.read_text("utf-8").splitlines()
    text.insert(1, '{"logName": "projects/p/logs/x", "timestamp": "not a time"')
    _write(damaged, text)
    result, runs = _as_each_alone(tmp_path, paths, monkeypatch)
    assert result.rejected == 1
    assert f"{damaged}: line 2" in str(result.rejections[0])
    assert len(runs) == len(paths)


@requires_real_staging
def test_files_beyond_a_statements_bytes_load_in_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _sink(tmp_path)
    monkeypatch.setattr(ingest, "GROUP_BYTES", 3 * max(p.stat().st_size for p in paths))
    _, runs = _as_each_alone(tmp_path, paths, monkeypatch)
    assert len(runs) == len(paths)


@requires_real_staging
def test_an_interrupted_load_together_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _sink(tmp_path)

    def interrupted(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(fastload, "settle_runs", interrupted)
    with open_store(tmp_path / "cut.duckdb") as store:
        with pytest.raises(KeyboardInterrupt):
            ingest_files(store, paths)
        assert store.scalar("SELECT count(*) FROM log_entries") == 0
        assert store.scalar("SELECT count(*) FROM ingest_runs") == 0


def test_every_kind_of_file_among_small_ones_loads_as_each_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file the whole-file path refuses (tests/test_fastload.py), and gzip, arrays, empty
    and missing files, between clean ones: the clean ones still load together where they can,
    and the store, the runs and every message are what loading each alone gives."""
    from .test_fastload import NEEDS_THE_READER, _entry, _lines

    paths: list[Path] = []
    for n, (name, data) in enumerate(sorted(NEEDS_THE_READER.items())):
        clean = tmp_path / f"clean-{n}.json"
        clean.write_bytes(_lines(*(_entry(100 * n + i) for i in range(3))))
        odd = tmp_path / f"{name.replace(' ', '_')}.json"
        odd.write_bytes(data)
        paths += [clean, odd]
    gz = tmp_path / "hour.json.gz"
    gz.write_bytes(gzip.compress(_lines(_entry(900), _entry(901))))
    array = tmp_path / "array.json"
    array.write_text(json.dumps([_entry(902), _entry(903)], indent=2), encoding="utf-8")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"\n\n")
    tail = [tmp_path / f"tail-{i}.json" for i in range(3)]
    for i, path in enumerate(tail):
        path.write_bytes(_lines(_entry(950 + i)))
    paths += [gz, tail[0], array, tail[1], empty, tmp_path / "missing.json", tail[2]]

    result, runs = _as_each_alone(tmp_path, paths, monkeypatch)
    assert f"{empty}: empty file, no entries" in result.errors
    assert f"{tmp_path / 'missing.json'}: no such file" in result.errors
    assert result.rejected >= 1
    # every clean file is a complete run of its own
    complete = {source for source, *_, status in runs if status == "complete"}
    assert {str(p) for p in paths if p.name.startswith(("clean-", "tail-"))} <= complete


def _files(tmp_path: Path, names: list[str], per: int = 3) -> list[Path]:
    """Clean files of ``per`` entries each under ``tmp_path/in``, named ``names``."""
    from .test_fastload import _entry, _lines

    paths = []
    for n, name in enumerate(names):
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_lines(*(_entry(100 * n + i) for i in range(per))))
        paths.append(path)
    return paths


HOSTILE_NAMES = [
    "plain.json",
    "with space.json",
    "comma,here.json",
    "quote'one.json",
    'dquote"two.json',
    "semi;colon; DROP TABLE log_entries;--.json",
    "new\nline.json",
    "tab\there.json",
    "caf\u00e9-nfc.json",
    "cafe\u0301-nfd.json",
    "back\\slash.json",
    "~tilde.json",
    "s3:x.json",
    "http:/host/a.json",
    "s3:/bucket/b.json",
    "x" * 250 + ".json",
    "-dash.json",
    ".hidden.json",
    "percent%2F.json",
]


def test_hostile_file_names_load_together_as_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path, HOSTILE_NAMES)
    _, runs = _as_each_alone(tmp_path, paths, monkeypatch)
    assert [r[1] for r in runs] == [3] * len(paths)


def test_relative_dotdot_and_symlinked_paths_are_one_file_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path, ["a.json", "sub/b.json"])
    link = tmp_path / "in" / "link.json"
    link.symlink_to(paths[0])
    monkeypatch.chdir(tmp_path / "in" / "sub")
    mixed = [
        Path("../a.json"),
        Path("b.json"),
        tmp_path / "in" / "sub" / ".." / "a.json",
        link,
        Path("./b.json"),
        Path("../sub/b.json"),
    ]
    _, runs = _as_each_alone(tmp_path, mixed, monkeypatch)
    assert [r[1:3] for r in runs] == [(3, 0), (3, 0), (0, 3), (0, 3), (0, 3), (0, 3)]


@pytest.mark.parametrize("part", ["date=2025-09-16", "line=1", "filename=x", "line=null"])
def test_a_directory_named_like_a_hive_partition_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    """DuckDB's readers would take ``line=null`` on the way to a file for a partition column
    and replace every line with NULL: every entry lost, silently."""
    paths = _files(tmp_path, [f"{part}/a.json", f"{part}/b.json"])
    _, runs = _as_each_alone(tmp_path, paths, monkeypatch)
    assert [r[1] for r in runs] == [3, 3]


def test_a_json_array_under_a_hive_looking_directory_loads_whole(tmp_path: Path) -> None:
    from .test_fastload import _entry

    path = tmp_path / "json=null" / "a.json"
    path.parent.mkdir()
    path.write_text(json.dumps([_entry(0), _entry(1)], indent=2), encoding="utf-8")
    with open_store(tmp_path / "s.duckdb") as store:
        assert ingest_files(store, [path]).accepted == 2


def test_a_file_name_that_is_not_utf8_is_loaded_under_a_shown_name(tmp_path: Path) -> None:
    from .test_fastload import _entry, _lines

    good = _files(tmp_path, ["a.json", "c.json"])
    odd = tmp_path / "in" / os.fsdecode(b"b\xff.json")
    odd.write_bytes(_lines(_entry(500)))
    with open_store(tmp_path / "t.duckdb") as store:
        result = ingest_files(store, [good[0], odd, good[1]])
        sources = [r[0] for r in store.conn.execute("SELECT source FROM ingest_runs").fetchall()]
        assert store.scalar("SELECT count(*) FROM log_entries") == 7
    assert result.accepted == 7
    assert sources[1] == str(tmp_path / "in" / "b\ufffd.json")


def test_checking_for_the_same_file_twice_is_linear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`forensics ingest logs/*.json` of a sink's thousands of small files: each file's
    absolute name is made once, not once per earlier file of its group."""
    from .test_fastload import _entry, _lines

    n = 300
    for i in range(n):
        (tmp_path / f"log{i:04d}.json").write_bytes(_lines(_entry(i, insertId=f"f{i}")))
    monkeypatch.chdir(tmp_path)
    paths = [Path(f"log{i:04d}.json") for i in range(n)]
    calls = 0
    real = Path.absolute

    def counted(self: Path) -> Path:
        nonlocal calls
        calls += 1
        return real(self)

    monkeypatch.setattr(Path, "absolute", counted)
    with open_store(tmp_path / "s.duckdb") as store:
        assert ingest_files(store, paths).accepted == n
    assert calls < 10 * n


def test_a_file_gone_after_its_format_was_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path, ["a.json", "b.json", "c.json"])
    real = ingest.detect_format

    def then_gone(path: Path) -> str:
        found = real(path)
        if path.name == "b.json":
            path.unlink()  # rotated away by the sink, or a concurrent cleanup
        return found

    monkeypatch.setattr(ingest, "detect_format", then_gone)
    with open_store(tmp_path / "s.duckdb") as store:
        result = ingest_files(store, paths)
    assert result.errors == [f"{paths[1]}: cannot read: No such file or directory"]
    assert result.accepted == 6
