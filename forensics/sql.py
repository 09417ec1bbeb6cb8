"""Load the named SQL queries in queries/ and run them with bound parameters.

A query file starts with a contract header:

    -- name: hour_service_severity_volume
    -- description: Entries per hour, service and severity in the window.
    -- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
    -- returns: hour, service, severity, n

The file stem must equal ``name``. Parameters are DuckDB named parameters (``$since``); only
the ones a query declares are bound, so one params dict can serve every query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from forensics.errors import ConfigError, InputError
from forensics.paths import queries_dir
from forensics.store import Store

__all__ = ["NamedQuery", "list_queries", "load_query", "run_named"]

_HEADER = re.compile(r"^--\s*(name|description|params|returns):\s*(.*)$")


@dataclass(frozen=True)
class NamedQuery:
    """A SQL file with its parsed header."""

    name: str
    description: str
    params: tuple[str, ...]
    returns: str
    sql: str
    path: Path


def _parse(path: Path) -> NamedQuery:
    meta: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line.strip())
        if match:
            meta[match.group(1)] = match.group(2).strip()
        elif line.strip() and not line.startswith("--"):
            break
    name = meta.get("name", "")
    if name != path.stem:
        raise ConfigError(f"{path}: header '-- name: {name}' must equal the file name")
    params = tuple(re.findall(r"\$(\w+)", meta.get("params", "")))
    return NamedQuery(
        name,
        meta.get("description", ""),
        params,
        meta.get("returns", ""),
        path.read_text(encoding="utf-8"),
        path,
    )


def list_queries(directory: Path | None = None) -> list[NamedQuery]:
    """Every named query, sorted by name."""
    root = directory or queries_dir()
    return [_parse(p) for p in sorted(root.glob("*.sql"))]


def load_query(name: str, directory: Path | None = None) -> NamedQuery:
    """One named query; InputError listing the known names if it does not exist."""
    root = directory or queries_dir()
    path = root / f"{name}.sql"
    if not path.is_file():
        known = ", ".join(q.name for q in list_queries(root)) or "none"
        raise InputError(f"no named query {name!r} (known: {known})")
    return _parse(path)


def run_named(store: Store, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run a named query, binding only the parameters it declares."""
    query = load_query(name)
    given = params or {}
    missing = [p for p in query.params if p not in given]
    if missing:
        raise InputError(f"query {name}: missing parameter(s) {', '.join(missing)}")
    bound = {p: given[p] for p in query.params}
    return store.query(query.sql, bound)
