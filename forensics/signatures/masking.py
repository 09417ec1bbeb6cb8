"""What the unknown-error miner reads: which entries are errors, their text, and its masked form.

One definition, used by the miner over a window (forensics.signatures.mining), by the per-run
store of error texts (forensics.signatures.error_texts), by `forensics classify` and by the
BigQuery pass (``error_sql`` in its dialect).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from forensics.signatures.dialect import DUCKDB, Dialect
from forensics.signatures.levels import word_level_sql
from forensics.signatures.matchtext import failure_text_sql, match_text_sql

__all__ = [
    "ERROR_SQL",
    "MASKS",
    "SERVICE_SQL",
    "TEXT_SQL",
    "error_sql",
    "mask_sql",
    "mask_texts",
    "text_sql",
]

# (RE2 pattern, placeholder), applied in this order: specific shapes before generic numbers.
MASKS: tuple[tuple[str, str], ...] = (
    (r"/cloudsql/[^\s\"',)]+", "/cloudsql/<PATH>"),
    (r"projects/[^/\s]+/traces/[0-9a-fA-F]+", "<TRACE>"),
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<UUID>"),
    (r"\b[a-z][a-z0-9-]*-\d{5}-[a-z0-9]{2,4}\b", "<REVISION>"),
    (r"\b[0-9a-f]{64,}\b", "<INSTANCE>"),
    (r"\b[0-9a-f]{32}\b", "<TRACE>"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<IP>"),
    (r"\b0x[0-9a-fA-F]+\b", "<HEX>"),
    (r"\b[A-Za-z_][\w-]*\d[\w-]*\b", "<ID>"),
    (r"\b[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b", "<HEX>"),
    (r"\d+(?:\.\d+)?", "<N>"),
)
_MAX_TEXT = 300


def mask_sql(text: str, dialect: Dialect = DUCKDB, masks: Sequence[tuple[str, str]] = MASKS) -> str:
    """SQL applying every mask (or ``masks``, a run of them in order) to the expression
    ``text``."""
    lit = dialect.literal
    for pattern, placeholder in masks:
        text = dialect.regex_replace.format(
            field=text, pattern=lit(pattern), replacement=lit(placeholder)
        )
    return text


# What the miner (and `forensics classify`'s "template") counts as an error: ERROR or above (the
# entry's severity, or the level word a DEFAULT line writes), a 5xx request, or an unlevelled
# line whose text reads as an error.
_READS_AS_ERROR = (
    r"(?i)(?:\b|[a-z])(?:error|exception)\b|\b(?:traceback|fatal|panic|failed|failure)\b"
)


# Every match of _READS_AS_ERROR holds one of these words, and the match text's lines are lines
# of the failure text (its letters unchanged), so a failure text without any of them reads as
# no error: tested first, it spares building the match text of almost every unlevelled line.
_MAY_READ_AS_ERROR = r"(?i)error|exception|traceback|fatal|panic|fail"


def error_sql(dialect: Dialect = DUCKDB, match_text: str | None = None) -> str:
    """SQL true for an entry (source rows aliased ``e``) the miner counts as an error.

    The unlevelled test reads the match text, so a traceback chunk holding only frames (or only
    "During handling of the above exception ...") is no error of its own. The level is stated
    once (``coalesce(word level >= 500, reads)``: a line without a level word falls to the text
    test), so the level regex runs once per DEFAULT entry, not twice. ``match_text``: a column
    already holding the match text (one expression less deep, for GoogleSQL's analyzer);
    without it the match text is built only for the lines whose failure text holds one of the
    words the test needs (``_MAY_READ_AS_ERROR``, one regex per unlevelled line instead of the
    match text's several: the plain 1M corpus's error test 0.6 -> 0.2 CPU s).
    """
    words = word_level_sql("coalesce(e.message, '')", dialect)
    reads = dialect.regex_match.format(
        field=match_text or match_text_sql(dialect), pattern=dialect.literal(_READS_AS_ERROR)
    )
    if match_text is None:
        may = dialect.regex_match.format(
            field=f"({failure_text_sql(dialect)})", pattern=dialect.literal(_MAY_READ_AS_ERROR)
        )
        reads = f"CASE WHEN {may} THEN {reads} ELSE FALSE END"
    return (
        f"(coalesce(e.http_status, 0) >= 500 OR CASE WHEN e.severity_number > 0 "
        f"THEN e.severity_number >= 500 ELSE coalesce({words} >= 500, {reads}) END)"
    )


ERROR_SQL = error_sql()


def text_sql(dialect: Dialect = DUCKDB, match_text: str | None = None) -> str:
    """SQL for the text a template is made of: a stack trace's first exception line, else the
    entry's first line (trimmed of spaces, at most 300 characters). ``match_text``: a column
    already holding the match text (one expression less deep)."""
    exception = dialect.first_line.format(text=match_text or match_text_sql(dialect))
    first = dialect.first_line.format(text="coalesce(message, '')")
    return f"left(trim(coalesce(nullif({exception}, ''), {first}), ' '), {_MAX_TEXT})"


TEXT_SQL = text_sql()
# The service a template lists for an entry.
SERVICE_SQL = "coalesce(e.service, e.resource_type, '(none)')"


def mask_texts(texts: Sequence[str]) -> list[str]:
    """Each text masked as `mine_templates` masks it (the same SQL, in an in-memory DuckDB)."""
    lines = pa.table({"t": pa.array(list(texts), pa.string())})
    with duckdb.connect() as conn:
        conn.register("lines", lines)
        column = conn.execute(f"SELECT {mask_sql('t')} AS m FROM lines").to_arrow_table()["m"]
    return [text or "(no text)" for text in column.to_pylist()]
