"""The user's cache directory, and the test that anything read back from it is the user's own.

Two caches live there: the kept analysis models (forensics.model_cache) and the marks of
signature regexes already checked as RE2 (forensics.signatures.validators). Both only save
work: a missing, unreadable or foreign entry is a miss, never an error.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "private", "write_private"]


def cache_dir() -> Path | None:
    """``$FORENSICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/forensics``, else
    ``~/.cache/forensics``; None when ``FORENSICS_CACHE_DIR`` is set empty (caching off)."""
    configured = os.environ.get("FORENSICS_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forensics"


def private(path: Path) -> bool:
    """Owned by this user and writable by nobody else (what we read back must come from us)."""
    info = path.lstat()
    return (
        info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        and not stat.S_ISLNK(info.st_mode)
    )


def write_private(directory: Path, name: str, data: bytes) -> bool:
    """Write ``directory/name`` whole or not at all, in a private directory; False (and
    nothing written) when that cannot be done."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not private(directory):
            return False
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, directory / name)
        return True
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False
