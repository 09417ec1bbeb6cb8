"""Build Logs Explorer links that re-run a report's claim in the Cloud console.

A link is ``https://console.cloud.google.com/logs/query;query=<filter>;timeRange=<start>/<end>
?project=<project>`` with every part percent-encoded (``quote(safe="")``): the filter is the
signature's own Cloud Logging clause from the catalog, or an entry's identity, and log-derived
values inside it are quoted as Logging query language strings first. So no log text can end
the attribute, add a parameter or change the scheme of the link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

__all__ = ["entry_filter", "logging_string", "logs_explorer_url", "safe_http_url"]

CONSOLE = "https://console.cloud.google.com/logs/query"


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def logging_string(value: str) -> str:
    """``value`` as a double-quoted Logging query language string (backslash escapes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def entry_filter(insert_id: str, log_name: str | None = None) -> str:
    """A filter matching exactly one entry: its insertId (and logName when known)."""
    parts = [f"insertId={logging_string(insert_id)}"]
    if log_name:
        parts.append(f"logName={logging_string(log_name)}")
    return " AND ".join(parts)


def logs_explorer_url(
    query: str,
    start: datetime,
    end: datetime,
    project: str | None,
    *,
    pad: timedelta = timedelta(0),
) -> str:
    """A Logs Explorer link running ``query`` over [start - pad, end + pad] in ``project``.

    Example:
        >>> from datetime import UTC
        >>> logs_explorer_url('insertId="a b"', datetime(2025, 9, 16, tzinfo=UTC),
        ...                   datetime(2025, 9, 17, tzinfo=UTC), "netra-staging")[:78]
        'https://console.cloud.google.com/logs/query;query=insertId%3D%22a%20b%22;timeRan'
    """
    time_range = quote(f"{_iso(start - pad)}/{_iso(end + pad)}", safe="")
    url = f"{CONSOLE};query={quote(query, safe='')};timeRange={time_range}"
    return f"{url}?project={quote(project, safe='')}" if project else url


def safe_http_url(value: str | None) -> str | None:
    """``value`` when it is a plain http(s) URL (an issue link from the registry), else None.

    Anything else (``javascript:``, ``data:``, relative paths, embedded quotes or spaces) is
    refused: the report shows the text without a link rather than a link it cannot vouch for.
    """
    if not value:
        return None
    text = value.strip()
    lowered = text.lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")):
        return None
    if any(ch in text for ch in " \t\r\n\"'<>`\\") or any(ord(ch) < 32 for ch in text):
        return None
    return text
