"""The level an entry states, in SQL: its severity, else the level word its text carries.

Plain stderr lines reach Cloud Logging with severity DEFAULT; their level is in the text
("- INFO -", "[ERROR]", "| WARNING |"). The classification, the miner's error test and the
BigQuery pass all read it through these expressions, in either dialect.
"""

from __future__ import annotations

from forensics.schema import SEVERITY_LEVELS
from forensics.signatures.dialect import DUCKDB, Dialect

__all__ = ["LEVEL_SQL", "level_sql", "word_level_sql"]

# The level an entry states: its severity, or for DEFAULT entries (plain stderr lines) the first
# level word the text carries ("- INFO -", "[ERROR]", "| WARNING |"); NULL when neither says.
_LEVEL_WORDS = {**SEVERITY_LEVELS, "WARN": 400, "FATAL": 600}
_LEVEL_RE = (
    r"(?:^|[\s\[|(])(DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL|ALERT|EMERGENCY)"
    r"(?:[\s\]|:)]|$)"
)


def word_level_sql(text: str, dialect: Dialect = DUCKDB) -> str:
    """SQL for the level the first level word of ``text`` states (NULL when it has none)."""
    extract = dialect.regex_extract.format(field=text, pattern=dialect.literal(_LEVEL_RE))
    return dialect.lookup(extract, {word: num for word, num in _LEVEL_WORDS.items() if num > 0})


def level_sql(text: str, dialect: Dialect = DUCKDB) -> str:
    """SQL for the stated level of an entry whose match text is the expression ``text``."""
    return (
        "CASE WHEN severity_number > 0 THEN severity_number "
        f"ELSE {word_level_sql(text, dialect)} END"
    )


LEVEL_SQL = level_sql("m")
