"""Per-run tables the window stages read instead of testing every entry of the window again.

What a window stage finds in each entry (an instance's start or readiness line, a logged
connection time, a /health request, an error's masked message, an error that may cause a
symptom, an audit entry a deploy marker reads) does not depend on the window, so it is stored once
per ingest run (forensics.derived: written by the writers, current while its SQL and the run are
unchanged) and a window reads the stored rows of its range (the volume's per-minute counts
are forensics.minute_ledger's, read by minute_volume). Each table has a TEMP table macro
``<table>_in(since, until)`` (made on every open, read-only stores too) that gives every row of
the entries in [since, until): the stored rows of the runs whose rows are current, and the
same rows computed from ``log_entries`` for every other run (an older store, a run not yet
derived), so an answer never depends on which path a run took.

Cost: writing, one scan of the new runs' entries per table, each evaluating its regexes only
on the entries its LIKE tests kept, the error tables once per distinct message (a fresh
1M-entry plain run: the seven tables, hour_spans included, 1.29 CPU s, instance_events 0.35
and db_timings 0.23 of it; one shared scan of the entries any writer's tests keep into a TEMP
table that four writers read measured no cheaper, 1.36 against 1.32, copying the candidates
costs what the separate scans did); reading, O(stored rows in the range), and O(entries in
the range) only for runs whose rows are not current.
"""

from __future__ import annotations

from forensics.derived import WHERE_MARK, Derived
from forensics.hour_spans import HOUR_SPANS

__all__ = [
    "AUDIT_ENTRIES",
    "DB_TIMINGS",
    "ERROR_CAUSES",
    "ERROR_MESSAGES",
    "HEALTH_REQUESTS",
    "INSTANCE_EVENTS",
    "ROW_TABLES",
    "WINDOW_DERIVED",
    "row_macros",
]

# Cloud Run instance events (queries/window_instance_startups.sql): only the instance's own
# lines that can be a start, readiness or failure (cheap text tests first). The kind is computed
# only for lines passing those tests: DuckDB pushes the outer `kind IS NOT NULL` into the scan's
# filter ahead of them, which ran the three regexes on every Cloud Run line (0.67 -> 0.35 CPU s).
_EVENT_TEXT = """(
          e.log_id = 'run.googleapis.com/varlog/system'
          OR e.message LIKE '%startup%'
          OR e.message LIKE '%Uvicorn running on%'
          OR e.message LIKE '%Worker failed to boot%'
          OR e.message LIKE '%eady in %'
      )"""
INSTANCE_EVENTS = Derived(
    "instance_events",
    f"""
SELECT * FROM (
    SELECT
        e.ingest_id, e."timestamp", e.instance_id, e.service, e.revision,
        CASE WHEN {_EVENT_TEXT} THEN CASE
            WHEN e.log_id = 'run.googleapis.com/varlog/system'
                 AND e.message LIKE 'Starting new instance%' THEN 'start'
            WHEN e.message LIKE '%Application startup complete%'
                 OR e.message LIKE '%Uvicorn running on%'
                 OR regexp_matches(e.message, '(?i)\\bready in \\d') THEN 'app_ready'
            WHEN regexp_matches(e.message, 'STARTUP (?:TCP|HTTP|GRPC) probe succeeded')
                THEN 'probe_ok'
            WHEN e.message LIKE 'Container called exit(%'
                 OR e.message LIKE 'Container terminated on signal%'
                 OR regexp_matches(e.message, 'STARTUP (?:TCP|HTTP|GRPC) probe failed')
                 OR e.message LIKE '%Worker failed to boot%'
                 OR e.message LIKE '%Application startup failed%' THEN 'failed'
        END END AS kind
    FROM log_entries AS e
    WHERE {WHERE_MARK}
      AND e.resource_type = 'cloud_run_revision'
      AND coalesce(e.instance_id, '') <> ''
      AND {_EVENT_TEXT}
)
WHERE kind IS NOT NULL""",
)

# Logged database connection times (queries/window_db_connection_timings.sql): "connected to
# the database in 2.3s". Lines repeat, so the tests and the extraction run once per distinct
# message of the lines that may log one (a hash aggregate of their messages) and the few timed
# messages are hash-joined back: the real-shaped day's LIKE tests kept 197,620 of its lines,
# 186 distinct messages (0.29 -> 0.08 CPU s; plain 1M, 81k distinct, 0.23 -> 0.13). LIKE first:
# it is vectorized, ILIKE and the regex are not. The seconds are extracted only from lines the
# line regex matched. Cost: two scans of the lines' messages, the tests O(distinct messages).
_DURATION = "'(?i)\\b(?:in|after|took)\\s+(\\d+(?:\\.\\d+)?)\\s*(ms|s)\\b'"
# The database named before the verb ("Database connected in 2.3s") or after it ("connected to
# the database in 2.3s").
_DB_WORD = "(?:database|postgres(?:ql)?|cloud sql|db)"
_CONNECTED_VERB = "connected|connection (?:established|succeeded|successful|ok)"
_CONNECTED = (
    "regexp_matches(e.message, '(?i)(?:"
    f"\\b{_DB_WORD}\\b[^\\n]{{0,80}}?\\b(?:{_CONNECTED_VERB}|initiali[sz]ed)\\b"
    f"|\\b(?:{_CONNECTED_VERB}) to\\b[^\\n]{{0,20}}?\\b{_DB_WORD}\\b"
    ")[^\\n]{0,40}?\\b(?:in|after|took)\\s+\\d+(?:\\.\\d+)?\\s*(?:ms|s)\\b')"
)
DB_TIMINGS = Derived(
    "db_timings",
    f"""
WITH lines AS NOT MATERIALIZED (
    SELECT e.ingest_id, e."timestamp", e.service, e.revision, e.insert_id, e.message
    FROM log_entries AS e
    WHERE {WHERE_MARK}
      AND coalesce(e.log_id, '') NOT IN ('run.googleapis.com/requests',
                                         'run.googleapis.com/varlog/system')
      AND coalesce(e.log_id, '') NOT LIKE 'cloudaudit.googleapis.com/%'
), timed AS (
    SELECT * FROM (
        SELECT e.message,
            CASE WHEN {_CONNECTED} THEN
                TRY_CAST(regexp_extract(e.message, {_DURATION}, 1) AS DOUBLE)
                / CASE WHEN lower(regexp_extract(e.message, {_DURATION}, 2)) = 'ms'
                       THEN 1000.0 ELSE 1.0 END END AS seconds
        -- an aggregate's output: the tests are not pushed below the GROUP BY onto every line
        FROM (SELECT any_value(message) AS message FROM lines GROUP BY message) AS e
        WHERE (e.message LIKE '%onnect%' OR e.message LIKE '%nitiali%') AND {_CONNECTED}
    )
    WHERE seconds IS NOT NULL
)
SELECT l.ingest_id, l."timestamp", l.service, l.revision, l.insert_id, t.seconds
FROM lines AS l JOIN timed AS t ON t.message = l.message""",
)

# Requests to /health* endpoints (queries/window_health_latency.sql).
HEALTH_REQUESTS = Derived(
    "health_requests",
    f"""
SELECT e.ingest_id, e."timestamp", e.service, e.insert_id, e.http_latency_ms, e.http_status
FROM log_entries AS e
WHERE {WHERE_MARK}
  AND e.log_id = 'run.googleapis.com/requests'
  AND e.http_url LIKE '%/health%'
  AND regexp_extract(e.http_url, '^[A-Za-z]+://[^/]+(/[^?#]*)', 1) LIKE '/health%'""",
)

# ERROR-or-worse entries and 5xx requests with their message, standalone numbers masked so
# variants group (queries/window_error_messages_top.sql). Errors repeat their messages: each
# distinct one is masked once and joined back by hash. Cost: one scan of the entries (no regex),
# the mask O(distinct messages).
ERROR_MESSAGES = Derived(
    "error_messages",
    f"""
WITH failures AS MATERIALIZED (
    SELECT e.ingest_id, e."timestamp", e.insert_id,
           coalesce(e.service, e.resource_type, '(none)') AS service, e.message
    FROM log_entries AS e
    WHERE {WHERE_MARK}
      AND (e.severity_number >= 500 OR e.http_status >= 500)
), masked AS (
    SELECT message,
           regexp_replace(left(message, 300), '\\b[0-9]+(\\.[0-9]+)?\\b', 'N', 'g') AS masked
    FROM (SELECT DISTINCT message FROM failures)
)
SELECT f.ingest_id, f."timestamp", f.insert_id, f.service, m.masked AS message
FROM failures AS f JOIN masked AS m ON m.message IS NOT DISTINCT FROM f.message""",
)

# Errors that may cause a symptom (queries/store_symptom_causes.sql): ERROR-or-worse entries
# and lines with a typed error ("FooError: ..."), named by their error type; request and audit
# logs are effects, never causes. Which ones a signature matched is decided at read time.
# Errors repeat their messages: the type is extracted once per distinct message and joined back
# by hash (its rank is whether there is one: the same regex). Cost: one scan of the entries, the
# typed-line regex only on the lines the LIKE tests keep, the extraction O(distinct messages).
_TYPED = "'\\b([A-Z][A-Za-z0-9_]*(?:Error|Exception))\\b'"
ERROR_CAUSES = Derived(
    "error_causes",
    f"""
WITH causes AS MATERIALIZED (
    SELECT e.ingest_id, e."timestamp", e.log_name, e.insert_id, e.service, e.revision,
           e.instance_id, e.message
    FROM log_entries AS e
    WHERE {WHERE_MARK}
      AND (e.severity_number >= 500
           OR ((e.message LIKE '%Error: %' OR e.message LIKE '%Exception: %')
               AND regexp_matches(e.message, '\\b[A-Z][A-Za-z0-9_]*(?:Error|Exception): ')))
      AND coalesce(e.log_id, '') <> 'run.googleapis.com/requests'
      AND coalesce(e.log_id, '') NOT LIKE 'cloudaudit.googleapis.com/%'
), types AS (
    SELECT message, nullif(regexp_extract(message, {_TYPED}, 1), '') AS error_type
    FROM (SELECT DISTINCT message FROM causes)
)
SELECT c.ingest_id, c."timestamp", c.log_name, c.insert_id, c.service, c.revision,
       c.instance_id, 'error:' || coalesce(t.error_type, 'unclassified') AS cause,
       CASE WHEN t.error_type IS NOT NULL THEN 1 ELSE 2 END AS kind_rank
FROM causes AS c JOIN types AS t ON t.message IS NOT DISTINCT FROM c.message""",
)

# Cloud Run and Serverless VPC Access audit entries (queries/store_audit_events.sql: deploy
# calls, Ready condition changes, connector updates), with the payload a deploy marker reads:
# a tiny share of the entries, read before the look-back too (the configuration before it).
AUDIT_ENTRIES = Derived(
    "audit_entries",
    f"""
SELECT e.ingest_id, e."timestamp", e.insert_id, e.log_id, e.severity, e.resource_type,
       e.service, e.revision, e.json_payload
FROM log_entries AS e
WHERE {WHERE_MARK}
  AND e.log_id IN ('cloudaudit.googleapis.com/activity', 'cloudaudit.googleapis.com/system_event')
  AND (
      e.resource_type LIKE 'cloud_run%'
      OR e.resource_type = 'vpc_access_connector'
      OR json_extract_string(e.json_payload, '$.serviceName') = 'vpcaccess.googleapis.com'
  )""",
)

# The row tables, each read through its macro <table>_in(since, until).
ROW_TABLES = (
    INSTANCE_EVENTS,
    DB_TIMINGS,
    HEALTH_REQUESTS,
    ERROR_MESSAGES,
    ERROR_CAUSES,
    AUDIT_ENTRIES,
)
# Every per-run table the writers keep for the analysis stages (the hourly spans have macros of
# their own: forensics.hour_spans).
WINDOW_DERIVED = (*ROW_TABLES, HOUR_SPANS)


def row_macros() -> list[str]:
    """The TEMP table macros ``<table>_in(since, until)`` over the row tables."""
    where = 'e."timestamp" >= since AND e."timestamp" < until'
    return [
        f"CREATE OR REPLACE TEMP MACRO {d.table}_in(since, until) AS TABLE\n"
        f"SELECT * EXCLUDE (ingest_id) FROM ({d.scoped(where)})"
        for d in ROW_TABLES
    ]
