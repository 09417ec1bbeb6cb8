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
   chunk: each chunk is reduced the same way, so a chunk of frames matches nothing and the chunk
   holding the exception line matches. Lines that only quote failure text in a Cloud Logging
   query (a log-based metric's ``textPayload:"..."`` filter) are dropped too: talking about a
   failure is not one.

The classification statement's keyword gate reads the raw message and, for payloads that may
hold error fields (``HAS_ERROR_FIELDS_SQL``), the payload's JSON text, which contains every
error field's text; (1) and (2) are computed only on the rows through the gate. Every line of
(2) is a line of (1), so gating never loses a match (the keywords are plain words, which JSON
escaping leaves as they are).
"""

from __future__ import annotations

__all__ = [
    "ERROR_FIELD_MIN_SEVERITY",
    "ERROR_FIELD_PATHS",
    "FAILURE_TEXT_SQL",
    "HAS_ERROR_FIELDS_SQL",
    "MATCH_TEXT_SQL",
    "exception_lines_sql",
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
HAS_ERROR_FIELDS_SQL = (
    "json_payload IS NOT NULL AND "
    f"(severity_number = 0 OR severity_number >= {ERROR_FIELD_MIN_SEVERITY}) "
    "AND (contains(json_payload, '\"err') OR contains(json_payload, '\"exc') "
    "OR contains(json_payload, '\"stack'))"
)
_PATHS = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in ERROR_FIELD_PATHS) + "]"
# String values only (an object's or array's JSON text starts with { or [), not repeating the
# message (normalization took the message from `error` when nothing else was there).
_ERROR_FIELDS = (
    f"array_to_string(list_filter(json_extract_string(json_payload, {_PATHS}), "
    "x -> x IS NOT NULL AND x <> '' AND x <> coalesce(message, '') "
    "AND NOT starts_with(x, '{') AND NOT starts_with(x, '[')), chr(10))"
)
FAILURE_TEXT_SQL = (
    f"CASE WHEN {HAS_ERROR_FIELDS_SQL} "
    f"THEN concat_ws(chr(10), nullif(coalesce(message, ''), ''), nullif({_ERROR_FIELDS}, '')) "
    "ELSE coalesce(message, '') END"
)

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


def _quoted(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


def exception_lines_sql(text: str) -> str:
    """SQL reducing the text expression ``text`` to its exception lines (see module doc)."""
    unescaped = (
        f"CASE WHEN contains({text}, chr(10)) THEN {text} ELSE replace({text}, '\\n', chr(10)) END"
    )
    kept = (
        f"array_to_string(list_filter(string_split({unescaped}, chr(10)), "
        f"l -> NOT regexp_matches(l, {_quoted(_DROP)})), chr(10))"
    )
    return f"CASE WHEN regexp_matches({text}, {_quoted(_MARK)}) THEN {kept} ELSE {text} END"


MATCH_TEXT_SQL = exception_lines_sql(f"({FAILURE_TEXT_SQL})")
