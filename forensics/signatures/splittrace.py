"""Join the chunks of a traceback Cloud Run split into several entries, so it matches once.

Cloud Run writes a long stderr traceback as one entry per chunk (same instance, same
millisecond): the header and frames in one entry, the exception line in the next, a message
continuation (psycopg2's "\\tconnections on Unix domain socket ...") in a third. Matched one
by one, a failure whose words straddle two chunks is missed, and a chained traceback's root
and wrapper chunks count twice. ``split_traceback_ctes(columns, source, where, gate)`` returns
CTEs ending in ``gated``: the rows in scope that pass the keyword gate, each with its message
for matching:

1. Chunk rows are the text entries (no JSON payload: Cloud Run splits what a process writes as
   text) whose message starts like a piece of a traceback: the header
   ``Traceback (most recent call last):`` (H), an indented line, a chaining sentence,
   ``Caused by:`` or SQLAlchemy's footer (C), or an exception line ``pkg.SomeError: ...`` (E).
2. Per (log, service, instance), ordered by time, a chunk starts a new run when it comes more
   than ``GAP_MS`` after the previous chunk or at the very same instant (Cloud Run stamps a
   split's chunks microseconds apart; equal stamps give no order to rely on), when it is a
   header not announced by a chaining sentence, when it is an exception line right after
   another one (two requests' errors), or when it is a chunk of frames right after a chunk
   that ended on its exception line.
3. A run of two or more chunks that holds a header is one traceback: its last chunk gets
   the run's messages joined with newlines, its other chunks an empty message. Every other
   row keeps its message. The match text then reduces the joined text to its exception lines
   (matchtext), so the root and every wrapper are read, once.

Cost: one scan; one anchored regex per text row picks the chunk rows (few); window functions
(lag, a running sum) and a GROUP BY run over the chunk rows only, the ordered text aggregate
only over the runs that are tracebacks (most runs are one chunk: the real-shaped day's 52,275
chunk rows are 50,020 runs, 205 of them tracebacks; aggregating every run's text cost 0.35
CPU s of its classification), and the rows they replace are hash-joined back onto the scope.
Near-linear in the rows, no self range join. The engine spellings (regex test, epoch
microseconds, LOGICAL_OR/bool_or, the newline) come from the ``Dialect``, so DuckDB and
BigQuery run the same stage.
"""

from __future__ import annotations

from forensics.signatures.dialect import DUCKDB, Dialect

__all__ = ["GAP_MS", "split_traceback_ctes"]

GAP_MS = 1000  # chunks of one traceback share a timestamp to the millisecond; 1 s is generous

_HEADER = r"^Traceback \(most recent call last\)"
_CONTINUATION = (
    r"^(?:\s|During handling of the above exception|The above exception was the direct cause"
    r"|Caused by: |\(Background on this error at: |\[SQL: |\[parameters: )"
)
_EXCEPTION = (
    r"^(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault|HaltServer)"
    r"\b"
)
_CHUNK = f"{_HEADER}|{_CONTINUATION}|{_EXCEPTION}"
_ANNOUNCES = r"(?:direct cause of the following exception|another exception occurred):?\s*$"
# A chunk of frames right after a chunk that ended on its exception line (an unindented line
# that is not the header) belongs to another traceback.
_FRAME = r'^\s+File "'
_ENDS_WITH_EXCEPTION = r"(?:^|\n)[^\s][^\n]*\s*$"
# ... unless that unindented last line is the header: a traceback written line by line has its
# header alone in one entry and its first frame in the next (RE2 has no lookahead to say both).
_ENDS_WITH_HEADER = r"(?:^|\n)Traceback \(most recent call last\):?\s*$"


def split_traceback_ctes(
    columns: str,
    source: str,
    where: str,
    gate: str,
    dialect: Dialect = DUCKDB,
    message_gate: str | None = None,
    per_run: bool = False,
) -> str:
    """CTE definitions (for a WITH list) ending in ``gated``: ``columns`` (which include
    ``message`` and ``json_payload``) of the ``source`` rows passing ``where`` and then
    ``gate``, each with ``message`` replaced as the module doc says. One scan; only the chunk
    rows are windowed and grouped, and the few replaced rows hash-joined back.

    ``message_gate``: a further test of the (replaced) message as ``text`` (``coalesce(message,
    '')``), a row passing when either holds; it is evaluated once per distinct message of the
    entries that are not requests (one more scan, of those messages only, a hash aggregate and
    a hash semi-join), row by row on the requests: logs repeat their lines, so a costly test of
    the text (the catalog's keyword regex) runs far fewer times.

    ``per_run``: chunks join only within their ingest run (``columns`` must hold ingest_id), so
    that several runs classified in one statement get the rows each would get alone."""
    lit, ts = dialect.literal, dialect.ident("timestamp")

    def matches(field: str, pattern: str) -> str:
        return dialect.regex_match.format(field=field, pattern=lit(pattern))

    kind = (
        f"CASE WHEN {matches('message', _HEADER)} THEN 'H' "
        f"WHEN {matches('message', _CONTINUATION)} THEN 'C' ELSE 'E' END"
    )
    # Cloud Run splits what a process writes as text: chunks are textPayload entries
    chunk = f"json_payload IS NULL AND {matches('message', _CHUNK)}"
    us = dialect.epoch_us.format(expr=ts)
    previous = "lag(message) OVER w"
    starts = (
        f"CASE WHEN lag({us}) OVER w IS NULL OR {us} - lag({us}) OVER w > {GAP_MS * 1000} "
        f"OR {us} = lag({us}) OVER w "
        f"OR (kind = 'H' AND NOT {matches(previous, _ANNOUNCES)}) "
        "OR (kind = 'E' AND lag(kind) OVER w = 'E') "
        f"OR ({matches('message', _FRAME)} AND {matches(previous, _ENDS_WITH_EXCEPTION)} "
        f"AND NOT {matches(previous, _ENDS_WITH_HEADER)}) "
        "THEN 1 ELSE 0 END"
    )
    parts = "log_name, coalesce(service, ''), coalesce(instance_id, '')"
    if per_run:
        parts += ", CAST(ingest_id AS VARCHAR)"
    key = dialect.join_nonnull.format(sep="'|'", parts=parts)
    order = f"{ts}, insert_id"
    return f"""scoped AS {dialect.streamed}(
    SELECT {columns}
    FROM {source}
    WHERE ({where})
), chunk_rows AS (
    SELECT log_name, insert_id, {ts}, message, {key} AS chunk_key, {kind} AS kind
    FROM scoped
    WHERE {chunk}
), chunk_starts AS (
    SELECT *, {starts} AS starts
    FROM chunk_rows
    WINDOW w AS (PARTITION BY chunk_key ORDER BY {order})
), chunk_runs AS (
    SELECT *,
        sum(starts) OVER (PARTITION BY chunk_key ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS run,
        row_number() OVER (PARTITION BY chunk_key ORDER BY {order}) AS pos
    FROM chunk_starts
), traceback_runs AS (
    SELECT chunk_key, run, max(pos) AS last_pos
    FROM chunk_runs
    GROUP BY chunk_key, run
    HAVING count(*) > 1 AND {dialect.any_true.format(expr="kind = 'H'")}
), tracebacks AS (
    SELECT t.chunk_key, t.run, t.last_pos,
        string_agg(c.message, {dialect.newline} ORDER BY c.{ts}, c.insert_id) AS text
    FROM traceback_runs AS t JOIN chunk_runs AS c USING (chunk_key, run)
    GROUP BY t.chunk_key, t.run, t.last_pos
), rejoined AS (
    SELECT c.log_name, c.insert_id, c.{ts},
        CASE WHEN c.pos = t.last_pos THEN t.text ELSE '' END AS text
    FROM chunk_runs AS c JOIN tracebacks AS t USING (chunk_key, run)
), joined AS (
    SELECT s.* REPLACE (coalesce(r.text, s.message) AS message)
    FROM scoped AS s LEFT JOIN rejoined AS r
        ON r.log_name = s.log_name AND r.insert_id = s.insert_id
        AND r.{ts} = s.{ts}
){_gated(gate, message_gate)}"""


def _gated(gate: str, message_gate: str | None) -> str:
    """The ``gated`` CTE (see split_traceback_ctes)."""
    if message_gate is None:
        return f""", gated AS (
    SELECT * FROM joined WHERE {gate}
)"""
    # Request entries are tested row by row: their message holds the URL and the latency, so
    # it rarely repeats. The tested text is an aggregate's output, so the optimizer cannot push
    # the test below the GROUP BY (onto every row) as it does a test of a grouping key.
    return f""", message_texts AS (
    SELECT any_value(text) AS text
    FROM (
        SELECT coalesce(message, '') AS text FROM scoped WHERE http_status IS NULL
        UNION ALL
        SELECT coalesce(text, '') AS text FROM rejoined
    )
    GROUP BY text
), passing_texts AS (
    SELECT text FROM message_texts WHERE {message_gate}
), gated AS (
    SELECT * EXCLUDE (text)
    FROM (SELECT *, coalesce(message, '') AS text FROM joined)
    WHERE CASE WHEN http_status IS NULL THEN text IN (SELECT text FROM passing_texts)
               ELSE {message_gate} END
       OR {gate}
)"""
