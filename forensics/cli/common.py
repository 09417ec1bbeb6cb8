"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from forensics.jsonable import jsonable
from forensics.redact import redact_obj

__all__ = ["DbOption", "IssuesFileOption", "JsonOption", "db_path", "dump_json", "to_jsonable"]

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="FORENSICS_DB",
        help="Evidence store (DuckDB file). Default: $FORENSICS_DB or ./forensics.duckdb.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead.")]
IssuesFileOption = Annotated[
    Path | None,
    typer.Option(
        "--issues-file",
        envvar="FORENSICS_ISSUES_FILE",
        help="Your issue registry: overrides or extends patterns/issues.yaml by id. "
        "Default: ./forensics-issues.yaml when it exists.",
        show_default=False,
    ),
]


def db_path(db: Path | None) -> Path:
    from forensics.store import default_db_path  # deferred: --help imports no DuckDB

    return db if db is not None else default_db_path()


to_jsonable = jsonable  # one conversion for the CLI and the library


def dump_json(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON for stdout, every string passed through the one redaction."""
    return json.dumps(redact_obj(to_jsonable(value)), indent=indent, ensure_ascii=False)
