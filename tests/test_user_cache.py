"""The user's cache: a regex set checked as RE2 once is not checked again; only own marks count."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.signatures.validators import _valid_mark, invalid_regexes

BAD = ["(unclosed"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORENSICS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_valid_set_is_marked_and_an_invalid_one_is_not(cache: Path) -> None:
    assert invalid_regexes(["a+b", r"\bx\b"]) == {}
    assert invalid_regexes(BAD) == {"(unclosed": "missing ): (unclosed"}
    marks = sorted(p.name for p in cache.iterdir())
    assert marks == [_valid_mark(["a+b", r"\bx\b"]).name]  # type: ignore[union-attr]


def test_a_marked_set_is_not_compiled_again(cache: Path) -> None:
    """A mark stands for the check: a (forged) mark of a bad set makes it pass unchecked."""
    mark = _valid_mark(BAD)
    assert mark is not None
    cache.mkdir(mode=0o700)
    mark.touch(mode=0o600)
    assert invalid_regexes(BAD) == {}


def test_a_mark_others_can_write_is_ignored(cache: Path) -> None:
    mark = _valid_mark(BAD)
    assert mark is not None
    cache.mkdir(mode=0o700)
    mark.touch()
    mark.chmod(0o666)
    assert invalid_regexes(BAD) != {}


def test_no_cache_checks_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORENSICS_CACHE_DIR", "")
    assert _valid_mark(BAD) is None
    assert invalid_regexes(BAD) != {} and invalid_regexes(["a"]) == {}
