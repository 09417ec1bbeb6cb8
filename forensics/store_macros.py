"""The store's session macros: SQL every connection defines on open, read-only ones too.

Kept apart from the table declarations (forensics.schema) because these are queries over the
tables, not their shape: they change with how the analysis counts, not with what is stored.
"""

from __future__ import annotations

from forensics.hour_spans import HOUR_SQL, hour_span_macros, whole_hours_sql
from forensics.schema import SEVERITY_LEVELS
from forensics.schema_derived import WINDOW_ROW_COLUMNS
from forensics.window_rows import row_macros

__all__ = [
    "LEDGER_ROWS_SQL",
    "MINUTE_SQL",
    "SCOPE_MACROS",
    "SESSION_TABLES",
    "STARTS_SQL",
    "session_ddl",
    "volume_macro",
]


# A UTC minute by arithmetic on epoch microseconds: date_trunc on a TIMESTAMPTZ goes through
# the ICU calendar and cost 18x as much (0.72 against 0.04 CPU s for 1M entries); UTC minutes
# are whole multiples of 60 s since the epoch (no leap seconds).
MINUTE_SQL = "make_timestamptz(epoch_us({ts}) // 60000000 * 60000000)"
# Entries that say an instance started (the system log's own line), among those counted.
STARTS_SQL = (
    "count(*) FILTER (WHERE log_id = 'run.googleapis.com/varlog/system' "
    "AND message LIKE 'Starting new instance%')"
)
# The stored entries' values a minute's count is kept by (minute_ledger's and minute_volume's).
_VALUES = "source, service, resource_type, log_id, severity, severity_number, http_status"
# One ingest run's entries counted per minute: the rows of minute_ledger (forensics.minute_ledger
# writes them once per run). ``/*where*/`` is the scope (forensics.derived.WHERE_MARK).
LEDGER_ROWS_SQL = f"""
SELECT ingest_id, minute, {_VALUES},
       {STARTS_SQL} AS instance_starts,
       count(*) AS entries
FROM (
    SELECT *, {MINUTE_SQL.format(ts='"timestamp"')} AS minute
    FROM log_entries AS e
    WHERE /*where*/
)
GROUP BY ALL
"""


def volume_macro(ledger_version: str) -> str:
    """Entries per minute for the window, for every volume and request count (one source of
    truth), as the TEMP macro ``minute_volume(since, until, cuts := [...])``, made on every
    open, read-only ones too (``session_ddl``).

    From minute_counts where a BigQuery source counted a minute in place, else from the stored
    entries, never both: a stored entry is already in a count (so it is left out) when its own
    source counted its minute (it came home as a match or context), or any source counted its
    minute for its log (the same entries from a file ingested over a BigQuery-collected
    window), or any source counted its minute naming no log (counts written before 0.4, taken
    to cover the minute whole). The stored
    entries' whole minutes come from minute_ledger for every run whose ledger rows are current
    (``ledger_version`` and the run's entry count, forensics.derived); from log_entries for
    the other runs, and for the minutes ``since``, ``until`` or a cut falls inside (one on a
    minute's start parts the ledger's whole minutes exactly: none is read). ``cuts`` split
    the range into parts at exact times (``part``: the cut a row's part starts at; ``since``
    for the first): in a minute holding a cut, stored entries are grouped by timestamp, so a
    part is exact to the microsecond; a counted minute belongs to the part its start falls in.
    The stored entries of the minute holding ``since`` count from ``since`` on (a range ending
    now starts inside a minute); a counted minute begun before ``since`` is left out whole.
    ``hourly := true`` leaves out the hours ``whole_hours_sql`` names (no cut and no counted
    minute inside them), which ``hour_volume`` (forensics.minute_ledger) reads whole from the
    hourly ledger: traffic over days reads hours, not minutes (queries/part_service_traffic.sql).
    ``request``: an entry with an HTTP status (all a per-minute count can tell of a request
    log); counted rows carry the resource type, log and instance starts collect --bigquery
    counted (NULL in stores written before 0.4).

    Cost: the ledger's rows in the range (timestamp-pruned: O(minutes x groups), whatever the
    entries); the entries of the edge minutes, each read by a timestamp-pruned scan of its own
    (the cuts' one spans the first to the last cut minute), and every entry of a run without
    current ledger rows; an aggregate of the entries read, one hash join with the counted
    minutes, and an ASOF join of the distinct slots.
    """
    minute = MINUTE_SQL.format(ts='"timestamp"')
    severities = " ".join(f"WHEN '{k}' THEN {v}" for k, v in SEVERITY_LEVELS.items())
    # written out where used, not a CTE: a scan prunes by constants, not by a subquery's rows
    cut_minutes = f"list_transform(cuts, c -> {MINUTE_SQL.format(ts='c')})"
    since, until = "CAST(since AS TIMESTAMPTZ)", "CAST(until AS TIMESTAMPTZ)"
    since_minute, until_minute = MINUTE_SQL.format(ts=since), MINUTE_SQL.format(ts=until)
    since_inside, until_inside = f"{since} <> {since_minute}", f"{until} <> {until_minute}"
    # The minutes read from the entries for every run: since's and until's when the range
    # starts or ends inside them, and a cut's when the cut falls inside its minute (a cut on a
    # minute's start parts the ledger's whole minutes exactly). The cuts' list leaves out
    # since's and until's minutes (read by their own scans): each entry is read once.
    inside_cut_minutes = (
        f"list_filter(list_transform(list_filter(cuts, c -> c <> {MINUTE_SQL.format(ts='c')}), "
        f"c -> {MINUTE_SQL.format(ts='c')}), m -> NOT (m = {since_minute} AND {since_inside}) "
        f"AND NOT (m = {until_minute} AND {until_inside}))"
    )
    edge_minutes = (
        f"list_concat({inside_cut_minutes}, "
        f"CASE WHEN {since_inside} THEN [{since_minute}] ELSE [] END, "
        f"CASE WHEN {until_inside} THEN [{until_minute}] ELSE [] END)"
    )
    # Each edge its own timestamp-pruned scan (a test of every entry's minute read the whole
    # range's timestamps: 0.19 CPU s over 8 days of 1M entries); an empty list, none.
    edge_ranges = (
        f'("timestamp" >= {since} AND "timestamp" < least({since_minute} + INTERVAL 1 MINUTE, '
        f"{until}) AND {since_inside})",
        f'("timestamp" >= CASE WHEN {since_inside} THEN greatest({until_minute}, '
        f"{since_minute} + INTERVAL 1 MINUTE) ELSE {until_minute} END "
        f'AND "timestamp" < {until} AND {until_inside})',
        f'("timestamp" >= greatest({since}, coalesce(list_min({inside_cut_minutes}), {until})) '
        f'AND "timestamp" < least({until}, coalesce(list_max({inside_cut_minutes}) '
        f"+ INTERVAL 1 MINUTE, {since})) AND list_contains({inside_cut_minutes}, {minute}))",
    )
    columns = f'"timestamp", {minute} AS minute, {_VALUES}, message'
    edge_scans = "\n    UNION ALL\n".join(
        f"""    SELECT {columns}
    FROM log_entries
    WHERE {test}
      AND ingest_id IN (SELECT ingest_id FROM ledgered)"""
        for test in edge_ranges
    )
    return f"""
CREATE OR REPLACE TEMP MACRO minute_volume(
    since, until, cuts := CAST([] AS TIMESTAMPTZ[]), hourly := false
) AS TABLE
WITH parts AS (
    SELECT unnest(list_concat([CAST(since AS TIMESTAMPTZ)], cuts)) AS part
),
whole_hours AS (  -- hourly: the hours hour_volume reads whole, left out here
    {whole_hours_sql("hourly")}
),
ledgered AS (  -- runs whose minute_ledger rows are current (forensics.derived)
    SELECT d.ingest_id
    FROM derived_runs AS d
    JOIN ingest_runs AS r USING (ingest_id)
    WHERE d.derived = 'minute_ledger'
      AND d.version = '{ledger_version}'
      AND d.entries = r.accepted
),
unledgered AS (
    SELECT ingest_id FROM ingest_runs WHERE ingest_id NOT IN (SELECT ingest_id FROM ledgered)
),
read_entries AS (  -- every entry of a run without ledger rows; the edge minutes of the others
    SELECT {columns}
    FROM log_entries
    JOIN unledgered USING (ingest_id)  -- none: the scan stops at once
    WHERE "timestamp" >= since
      AND "timestamp" < until
      AND (NOT hourly OR {HOUR_SQL.format(ts='"timestamp"')} NOT IN (SELECT h FROM whole_hours))
    UNION ALL
{edge_scans}
),
from_entries AS (
    SELECT
        -- a minute begun before since (the range starts inside it) starts at since
        CASE WHEN list_contains({cut_minutes}, minute) THEN "timestamp"
             ELSE greatest(minute, CAST(since AS TIMESTAMPTZ)) END AS slot,
        minute,
        {_VALUES},
        {STARTS_SQL} AS instance_starts,
        count(*) AS entries
    FROM read_entries
    GROUP BY ALL
),
from_ledger AS (
    SELECT minute AS slot, minute, {_VALUES}, instance_starts, entries
    FROM minute_ledger
    WHERE minute >= since
      AND minute < until
      AND ingest_id IN (SELECT ingest_id FROM ledgered)
      AND NOT list_contains({edge_minutes}, minute)
      AND (NOT hourly OR {HOUR_SQL.format(ts="minute")} NOT IN (SELECT h FROM whole_hours))
),
stored AS (
    SELECT
        slot,
        minute,
        source,
        false AS counted,
        service,
        resource_type,
        log_id,
        severity,
        severity_number,
        http_status,
        http_status IS NOT NULL AS request,
        instance_starts,
        entries
    FROM (SELECT * FROM from_entries UNION ALL SELECT * FROM from_ledger)
),
counted AS (
    SELECT
        minute AS slot,
        minute,
        source,
        true AS counted,
        service,
        resource_type,
        log_id,
        severity,
        CAST(CASE severity {severities} ELSE 0 END AS SMALLINT) AS severity_number,
        http_status,
        http_status IS NOT NULL AS request,
        instance_starts,
        entries
    FROM minute_counts
    WHERE minute >= since
      AND minute < until
),
counted_minutes AS (  -- per minute, the counts a stored entry's minute may have (since's too)
    SELECT minute, list(DISTINCT source) AS sources, list(DISTINCT log_id) AS logs,
           bool_or(log_id IS NULL) AS whole
    FROM minute_counts
    WHERE minute >= {MINUTE_SQL.format(ts="CAST(since AS TIMESTAMPTZ)")}
      AND minute < until
    GROUP BY minute
),
volume AS (  -- one hash join with the counted minutes (none: nothing to build), not three
    SELECT s.* FROM stored AS s
    LEFT JOIN counted_minutes AS c USING (minute)
    WHERE c.minute IS NULL
       OR NOT (coalesce(list_contains(c.sources, s.source), false)
               OR coalesce(list_contains(c.logs, s.log_id), false)
               OR c.whole)
    UNION ALL
    SELECT * FROM counted
),
slot_parts AS (  -- each distinct slot's part: the ASOF join sorts slots, not every row
    SELECT s.slot, p.part
    FROM (SELECT DISTINCT slot FROM volume) AS s
    ASOF JOIN parts AS p
      ON s.slot >= p.part
)
SELECT sp.part, v.* EXCLUDE (slot)
FROM volume AS v
JOIN slot_parts AS sp USING (slot)
"""


# A postmortem's facts for many scopes in one statement (forensics.report.postmortem): each
# scope a struct {scope, since, until, signatures, services} (signatures and services as
# comma-joined lists, '' for no filter: another incident's 503s at the same time are not this
# one's), its primary matches in [since, until]. queries/scope_match_edges.sql and
# scope_affected.sql are these for one scope (the form a report cites), so one text computes
# both. Cost: one timestamp-pruned scan of signature_matches, a range join with the s scopes
# (O(matches in the scopes' span x s) at worst, scopes are minutes long but the window's own),
# and for the edges one hash join with the span's entries' keys and levels, one hash aggregate
# (arg_min and arg_max per scope, no sort) and a second join that reads the 3 picked rows per
# scope: O(entries in the span + scoped matches), whatever the number of scopes.
SCOPE_MACROS = (
    """
CREATE OR REPLACE TEMP MACRO scope_matches(scopes) AS TABLE
SELECT s.scope, s.services, m.*
FROM signature_matches AS m
JOIN (SELECT unnest(scopes, recursive := true)) AS s
  ON m."timestamp" >= s.since
 AND m."timestamp" <= s.until
WHERE m.is_primary
  AND (
      s.signatures = ''
      OR list_contains(string_split(s.signatures, ','), m.signature)
  )
""",
    """
CREATE OR REPLACE TEMP MACRO scope_edges(scopes) AS TABLE
WITH scoped AS (
    SELECT
        m.scope,
        -- ordered by ("timestamp", insert_id): the first and last match, and the first one
        -- at ERROR or worse (or an HTTP 5xx). Only the match's key is carried: the three
        -- picked rows' text is read afterwards (carrying every scoped row's message cost
        -- a third of the statement on a day of 30 % errors).
        ROW(m."timestamp", m.insert_id) AS position,
        e.severity_number >= 500 OR coalesce(e.http_status, 0) >= 500 AS is_error,
        {"timestamp": m."timestamp", insert_id: m.insert_id, log_name: m.log_name,
         signature: m.signature} AS edge_key
    FROM scope_matches(scopes) AS m
    JOIN log_entries AS e
      ON e."timestamp" = m."timestamp"
     AND e.insert_id = m.insert_id
     AND e.log_name = m.log_name
    WHERE m.services = ''
       OR list_contains(
           string_split(m.services, ','), coalesce(m.service, e.resource_type, '(unknown)')
       )
),
-- One hash aggregate keeps each scope's three keys as it streams: no sort of the scoped rows.
picked AS (
    SELECT
        scope,
        arg_min(edge_key, position) AS first_key,
        arg_min(edge_key, position) FILTER (WHERE is_error) AS detection_key,
        arg_max(edge_key, position) AS last_key
    FROM scoped
    GROUP BY scope
),
edges AS (
    SELECT scope, 'first' AS edge, unnest(first_key) FROM picked
    UNION ALL
    SELECT scope, 'detection', unnest(detection_key) FROM picked WHERE detection_key IS NOT NULL
    UNION ALL
    SELECT scope, 'last', unnest(last_key) FROM picked
)
-- The three rows per scope, read by their identity.
SELECT k.scope, k.edge, k."timestamp", k.insert_id, k.log_name, e.service, e.revision,
       e.instance_id, k.signature, e.severity, e.message
FROM edges AS k
JOIN log_entries AS e
  ON e."timestamp" = k."timestamp"
 AND e.insert_id = k.insert_id
 AND e.log_name = k.log_name
""",
    """
CREATE OR REPLACE TEMP MACRO scope_facts(scopes, failed_start_signatures) AS TABLE
WITH scoped AS (
    SELECT
        scope,
        signature,
        coalesce(service, '(none)') AS service,
        revision,
        instance_id,
        list_contains(string_split(failed_start_signatures, ','), signature) AS failed_start
    FROM scope_matches(scopes)
    WHERE services = '' OR list_contains(string_split(services, ','), service)
)
SELECT
    s.scope,
    count(m.scope) AS matches,
    coalesce(string_agg(DISTINCT m.service, ',' ORDER BY m.service), '') AS services,
    count(DISTINCT nullif(m.revision, '')) AS revisions,
    coalesce(
        string_agg(DISTINCT nullif(m.revision, ''), ',' ORDER BY nullif(m.revision, '')), ''
    ) AS revision_list,
    count(DISTINCT m.instance_id) AS instances,
    count(m.scope) FILTER (WHERE m.failed_start) AS failed_start_entries,
    count(DISTINCT m.instance_id) FILTER (WHERE m.failed_start) AS failed_start_instances
FROM (SELECT unnest(scopes, recursive := true)) AS s
LEFT JOIN scoped AS m USING (scope)
GROUP BY s.scope
""",
)

# what the TEMP macros read
SESSION_TABLES = frozenset(
    {
        "log_entries",
        "minute_counts",
        "signature_matches",
        "minute_ledger",
        "hour_ledger",
        "derived_runs",
        "ingest_runs",
        *WINDOW_ROW_COLUMNS,
    }
)


def session_ddl() -> list[str]:
    """Statements every connection runs on open (read-only too): the TEMP macros."""
    # imports forensics.store: not at the top
    from forensics.minute_ledger import MINUTE_LEDGER, hour_volume_macro

    return [
        volume_macro(MINUTE_LEDGER.version),
        hour_volume_macro(),
        *SCOPE_MACROS,
        *row_macros(),
        *hour_span_macros(),
    ]
