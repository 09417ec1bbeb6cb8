"""Reuse the analysis of an unchanged store: `forensics analyze` run again reads one file.

The model of one analysis (``forensics.pipeline.build_model``) is kept in the user's cache
directory (``$FORENSICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/forensics``, else
``~/.cache/forensics``; ``FORENSICS_CACHE_DIR=""`` turns it off), under a key made of everything
the answer depends on:

  - the store file and its write-ahead log: path, size and modification time (every write, an
    ingest, a collect or `forensics patterns apply`, changes them);
  - the window as asked, and whether report facts were built;
  - the signature catalog and issue registry files (patterns/ and the user's issues file);
  - the code: the version and every module and query file's size and modification time.

A model built with report facts also answers a request without them. Entries are pickles, so
only a directory and files the current user owns and nobody else can write are read; anything
unreadable is a miss. At most ``KEEP`` entries are kept (the least recently written go).
Cost of a lookup: one stat per package, query and pattern file (a few hundred), then the read.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forensics import __version__
from forensics.paths import patterns_dir, queries_dir
from forensics.timeutil import Window
from forensics.user_cache import cache_dir, private, write_private

if TYPE_CHECKING:
    from forensics.analysis import AnalysisModel

__all__ = ["KEEP", "ModelCache", "cache_dir"]

KEEP = 16
_PACKAGE = Path(__file__).resolve().parent


def _stat_line(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path} -"
    return f"{path} {info.st_size} {info.st_mtime_ns}"


def _tree(root: Path, pattern: str) -> list[str]:
    return [_stat_line(p) for p in sorted(root.rglob(pattern))]


@dataclass(frozen=True)
class ModelCache:
    """The cache entries of one store, window and issues file (see the module docstring)."""

    directory: Path
    base: str  # the key without the report flag

    @classmethod
    def for_store(cls, db: Path, window: Window, user_registry: Path | None) -> ModelCache | None:
        """The cache for this analysis, or None (caching off, an in-memory or missing store, or
        an issues file that does not exist: the analysis reports that error itself)."""
        directory = cache_dir()
        if directory is None or str(db) == ":memory:" or not db.is_file():
            return None
        if user_registry is not None and not user_registry.is_file():
            return None
        store = db.resolve()
        parts = [
            __version__,
            window.since.isoformat(),
            window.until.isoformat(),
            _stat_line(store),
            _stat_line(Path(f"{store}.wal")),
            _stat_line(user_registry.resolve()) if user_registry else "no user registry",
            *_tree(_PACKAGE, "*.py"),
            *_tree(queries_dir(), "*.sql"),
            *_tree(patterns_dir(), "*"),
        ]
        return cls(directory, hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32])

    def _path(self, report: bool) -> Path:
        return self.directory / f"model-{self.base}-{'report' if report else 'plain'}.pickle"

    def get(self, *, report: bool) -> AnalysisModel | None:
        """The model kept for this key (one with report facts serves a request without)."""
        wanted = (True,) if report else (False, True)
        for flag in wanted:
            path = self._path(flag)
            try:
                if not (private(self.directory) and private(path)):
                    continue
                with path.open("rb") as handle:
                    model: AnalysisModel = pickle.load(handle)
                return model
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                continue
        return None

    def put(self, model: AnalysisModel, *, report: bool) -> None:
        """Keep ``model`` (written whole or not at all); a cache that cannot be written is
        silently skipped: the answer does not depend on it."""
        try:
            data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return
        if write_private(self.directory, self._path(report).name, data):
            self._evict()

    def _evict(self) -> None:
        entries = sorted(self.directory.glob("model-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
