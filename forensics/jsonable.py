"""Turn analysis values (polars frames, datetimes, nested containers) into JSON-ready data."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import Any

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """Frames become lists of rows, datetimes RFC 3339 UTC with a Z, dates ISO days."""
    # A polars frame can only exist once polars is imported; checking sys.modules keeps the
    # import out of commands that never build one (--help stays instant).
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(value, pl.DataFrame):
        return [jsonable(row) for row in value.to_dicts()]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
