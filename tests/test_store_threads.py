"""$FORENSICS_THREADS caps DuckDB's threads (shared machines, single-threaded benchmarks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.errors import InputError
from forensics.store import open_store


def test_threads_follow_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORENSICS_THREADS", "1")
    with open_store(tmp_path / "s.duckdb") as store:
        assert store.scalar("SELECT current_setting('threads')") == 1
    monkeypatch.setenv("FORENSICS_THREADS", "3")
    with open_store(tmp_path / "s.duckdb", read_only=True) as store:
        assert store.scalar("SELECT current_setting('threads')") == 3


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("FORENSICS_THREADS", bad)
    with pytest.raises(InputError, match="FORENSICS_THREADS"), open_store(tmp_path / "s.duckdb"):
        pass
