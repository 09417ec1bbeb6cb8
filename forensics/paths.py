"""Find the data directories (queries/, patterns/, reports/) in a checkout or an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "patterns_dir", "queries_dir", "reports_dir"]

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory ``name`` ($FORENSICS_<NAME>_DIR, the checkout, or the wheel's copy)."""
    override = os.environ.get(f"FORENSICS_{name.upper()}_DIR")
    if override:
        return Path(override)
    checkout = _PACKAGE.parent / name  # editable install or running from the repository
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "_data" / name  # wheel: hatch force-include puts a copy here


def queries_dir() -> Path:
    return data_dir("queries")


def patterns_dir() -> Path:
    return data_dir("patterns")


def reports_dir() -> Path:
    return data_dir("reports")
