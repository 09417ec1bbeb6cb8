"""The text every signature's ``message`` tests read: where a LogEntry keeps its failure.

Two SQL expressions, composed into one (``MATCH_TEXT_SQL``):

1. ``FAILURE_TEXT_SQL``: the entry's ``message`` plus, for DEFAULT and WARNING-or-worse
   entries, the error fields structured loggers write beside it (zerolog/logrus ``error``,
   pino ``err.message``/``err.stack``, winston ``stack``, structlog ``exception``, logback
   ``stack_trace``, nested ``error.message`` and
   ``error.stack``, ``error.code``, flattened ``"error.message"`` keys), one per line.
   Normalization keeps one display text per entry (a ``msg`` key wins over ``error``), so the
   failure would otherwise be invisible when the logger puts it in a separate field.
2. ``exception_lines_sql(text)``: for a stack trace (Python traceback, Java/Node frames) only
   its exception lines: every unindented line except the traceback header, the chaining
   sentences ("The above exception was the direct cause ...", "During handling ..."),
   SQLAlchemy's ``(Background on this error at: ...)`` footer and its ``[SQL: ...]`` quotes.
   So the root exception and every wrapper of a chain are matched, while the source lines and
   frames a traceback quotes never are. Cloud Run splits long tracebacks into one entry per
   chunk: the compiler first joins a split traceback's chunks onto its last chunk
   (``splittrace``), so this reduction sees the whole traceback once. Lines that only quote
   failure text in a Cloud Logging query (a log-based metric's ``textPayload:"..."`` filter)
   are dropped too: talking about a failure is not one.

The classification statement's keyword gate reads the raw message and, for payloads that may
hold error fields (``HAS_ERROR_FIELDS_SQL``), the payload's JSON text, which contains every
error field's text; (1) and (2) are computed only on the rows through the gate. Every line of
(2) is a line of (1), so gating never loses a match (the keywords are plain words, which JSON
escaping leaves as they are).
"""

from __future__ import annotations

from forensics.signatures.dialect import DUCKDB, Dialect

__all__ = [
    "ERROR_FIELD_MIN_SEVERITY",
    "ERROR_FIELD_PATHS",
    "FAILURE_TEXT_SQL",
    "HAS_ERROR_FIELDS_SQL",
    "MATCH_TEXT_SQL",
    "exception_lines_sql",
    "failure_text_sql",
    "has_error_fields_sql",
    "match_text_sql",
]

# JSON paths of the error fields, in the order they are appended after the message.
ERROR_FIELD_PATHS = (
    "$.error",
    "$.err",
    "$.exception",
    "$.exc_info",
    "$.stack_trace",
    "$.stacktrace",
    "$.stack",
    "$.error.message",
    "$.error.stack",
    "$.error.stack_trace",
    "$.error.code",
    "$.err.message",
    "$.err.stack",
    "$.err.code",
    "$.exception.message",
    "$.exception.stacktrace",
    '$."error.message"',
    '$."error.stack"',
    '$."error.stack_trace"',
    '$."err.message"',
    '$."exception.message"',
    '$."exception.stacktrace"',
)

# Error fields are read on DEFAULT entries and on entries at this severity or worse (the
# Logging pushdown filter reads the same list and floor: forensics.signatures.logfilter).
ERROR_FIELD_MIN_SEVERITY = 400


# Cheap test that a payload may hold one of those keys (memmem, no JSON parse for the rest).
# Not for DEBUG/INFO/NOTICE entries: a logger that attaches an error object to every line (the
# real staging export's does, `"error": {"message": "Missing field"}` on INFO lines) would make
# the payload scan cost a fifth of the classification, for lines that state no failure.
def has_error_fields_sql(dialect: Dialect = DUCKDB) -> str:
    """SQL true when the payload may hold error fields (see the comment above)."""
    keys = ('"err', '"exc', '"stack')
    found = " OR ".join(
        dialect.contains.format(field="json_payload", value=dialect.literal(k)) for k in keys
    )
    return (
        "json_payload IS NOT NULL AND "
        f"(severity_number = 0 OR severity_number >= {ERROR_FIELD_MIN_SEVERITY}) AND ({found})"
    )


def failure_text_sql(dialect: Dialect = DUCKDB) -> str:
    """SQL for the message plus the error fields beside it, one per line (see module doc)."""
    lit, nl = dialect.literal, dialect.newline
    # String values only (an object's or array's JSON text starts with { or [), not repeating
    # the message (normalization took the message from `error` when nothing else was there).
    keep = (
        f"x IS NOT NULL AND x <> '' AND x <> coalesce(message, '') "
        f"AND NOT {dialect.startswith.format(field='x', value=lit('{'))} "
        f"AND NOT {dialect.startswith.format(field='x', value=lit('['))}"
    )
    fields = dialect.filter_join.format(
        array=dialect.json_strings("json_payload", ERROR_FIELD_PATHS), var="x", cond=keep, sep=nl
    )
    parts = f"nullif(coalesce(message, ''), ''), nullif({fields}, '')"
    return (
        f"CASE WHEN {has_error_fields_sql(dialect)} "
        f"THEN {dialect.join_nonnull.format(sep=nl, parts=parts)} "
        "ELSE coalesce(message, '') END"
    )


HAS_ERROR_FIELDS_SQL = has_error_fields_sql()
FAILURE_TEXT_SQL = failure_text_sql()

# A text needing line-by-line reduction: a stack trace (in real or in escaped "\n" newlines),
# or a Cloud Logging query quoting failure text.
_QUERY = (
    r"(?:textPayload|jsonPayload[\w.]*|protoPayload[\w.]*)\s*(?:=~|!~|!=|=|:)\s*\\?\""
    r"|logging\.googleapis\.com/user/"
)
_MARK = (
    r"Traceback \(most recent call last\)|(?:^|\n|\\n)[ \t]*File \"[^\"\n]*\", line \d"
    r"|(?:\n|\\n)(?:\t| {2,})at [\w$.<>/@\[\]-]+|(?:\n|\\n)Caused by: "
    r"|\(Background on this error at: "
    r"|The above exception was the direct cause|During handling of the above exception|" + _QUERY
)
# Lines dropped from such a text: blank; the traceback header; frames and quoted source (any
# line indented by two spaces or more, Java/Node `at` frames, "... N more"); the sentences
# that chain exceptions; SQLAlchemy's footer and SQL quotes; query lines.
_DROP = (
    r"^\s*$|^Traceback \(most recent call last\)|^ {2}|^\s+at \S|^\s+\.\.\. \d+ "
    r"|^During handling of the above exception|^The above exception was the direct cause"
    r"|^\(Background on this error at:|^\[SQL: |^\[parameters: |" + _QUERY
)


def exception_lines_sql(text: str, dialect: Dialect = DUCKDB) -> str:
    """SQL reducing the text expression ``text`` to its exception lines (see module doc)."""
    lit, nl = dialect.literal, dialect.newline
    has_newline = dialect.contains.format(field=text, value=nl)
    unescaped = (
        f"CASE WHEN {has_newline} THEN {text} ELSE replace({text}, {lit(chr(92) + 'n')}, {nl}) END"
    )
    lines = dialect.split.format(text=unescaped, sep=nl)
    dropped = dialect.regex_match.format(field="l", pattern=lit(_DROP))
    kept = dialect.filter_join.format(array=lines, var="l", cond=f"NOT {dropped}", sep=nl)
    marked = dialect.regex_match.format(field=text, pattern=lit(_MARK))
    return f"CASE WHEN {marked} THEN {kept} ELSE {text} END"


def match_text_sql(dialect: Dialect = DUCKDB) -> str:
    """SQL for the text every signature's message tests read, from the entry's columns."""
    return exception_lines_sql(f"({failure_text_sql(dialect)})", dialect)


MATCH_TEXT_SQL = match_text_sql()
