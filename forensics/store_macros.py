"""The store's session macros: SQL every connection defines on open, read-only ones too.

Kept apart from the table declarations (forensics.schema) because these are queries over the
tables, not their shape: they change with how the analysis counts, not with what is stored.
"""

from __future__ import annotations

from forensics.schema import SEVERITY_LEVELS

__all__ = ["SCOPE_MACROS", "SESSION_TABLES", "VOLUME_MACRO", "session_ddl"]


# Entries per minute for the window, for every volume and request count (one source of truth):
# from minute_counts where a BigQuery source counted a minute in place, from log_entries
# otherwise, never both: a stored entry of a source whose minute that source counted is
# already in the count (brought home as a match or context), so it is left out. A TEMP macro,
# made on every open, read-only ones too (``session_ddl``). ``cuts`` split the range into parts
# at exact times (``part``: the cut a row's part starts at; ``since`` for the first): in a
# minute holding a cut, stored entries are grouped by timestamp, so a part is exact to the
# microsecond; a counted minute belongs to the part its start falls in. ``request``: an entry
# with an HTTP status (all a per-minute count can tell of a request log); counted rows carry
# the resource type, log and instance starts collect --bigquery counted (NULL in stores
# written before 0.4). Cost: one scan of the window's entries
# (timestamp-pruned), a hash aggregate to minutes, an anti-join and an ASOF join on the
# aggregate: O(entries in the window + minutes x groups).
VOLUME_MACRO = f"""
CREATE OR REPLACE TEMP MACRO minute_volume(
    since, until, cuts := CAST([] AS TIMESTAMPTZ[])
) AS TABLE
WITH parts AS (
    SELECT unnest(list_concat([CAST(since AS TIMESTAMPTZ)], cuts)) AS part
),
cut_minutes AS (  -- the minutes holding a cut
    SELECT list_transform(cuts, c -> make_timestamptz(epoch_us(c) // 60000000 * 60000000)) AS m
),
stored AS (
    SELECT
        CASE
            WHEN list_contains((SELECT m FROM cut_minutes), minute) THEN "timestamp"
            ELSE minute
        END AS slot,
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
        count(*) FILTER (
            WHERE log_id = 'run.googleapis.com/varlog/system'
              AND message LIKE 'Starting new instance%'
        ) AS instance_starts,
        count(*) AS entries
    FROM (
        -- the minute by arithmetic on epoch microseconds: date_trunc on a TIMESTAMPTZ goes
        -- through the ICU calendar and cost 18x as much (0.72 against 0.04 CPU s for 1M
        -- entries); UTC minutes are whole multiples of 60 s since the epoch (no leap seconds)
        SELECT *, make_timestamptz(epoch_us("timestamp") // 60000000 * 60000000) AS minute
        FROM log_entries
        WHERE "timestamp" >= since
          AND "timestamp" < until
    )
    GROUP BY ALL
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
        CAST(CASE severity {" ".join(f"WHEN '{k}' THEN {v}" for k, v in SEVERITY_LEVELS.items())}
            ELSE 0 END AS SMALLINT) AS severity_number,
        http_status,
        http_status IS NOT NULL AS request,
        instance_starts,
        entries
    FROM minute_counts
    WHERE minute >= since
      AND minute < until
),
volume AS (
    SELECT * FROM stored AS s
    WHERE NOT EXISTS (
        SELECT 1 FROM minute_counts AS c WHERE c.source = s.source AND c.minute = s.minute
    )
    UNION ALL
    SELECT * FROM counted
)
SELECT p.part, v.* EXCLUDE (slot)
FROM volume AS v
ASOF JOIN parts AS p
  ON v.slot >= p.part
"""


# A postmortem's facts for many scopes in one statement (forensics.report.postmortem): each
# scope a struct {scope, since, until, signatures, services} (signatures and services as
# comma-joined lists, '' for no filter: another incident's 503s at the same time are not this
# one's), its primary matches in [since, until]. queries/scope_match_edges.sql and
# scope_affected.sql are these for one scope (the form a report cites), so one text computes
# both. Cost: one timestamp-pruned scan of signature_matches, a range join with the s scopes
# (O(matches in the scopes' span x s) at worst, scopes are minutes long but the window's own),
# and for the edges one hash join with the span's entries: O(entries in the span + scoped
# matches), whatever the number of scopes.
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
        m."timestamp",
        m.insert_id,
        m.log_name,
        m.signature,
        e.service,
        e.revision,
        e.instance_id,
        e.severity,
        e.severity_number,
        e.http_status,
        e.message
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
edges AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY scope ORDER BY "timestamp", insert_id) AS rn_first,
        row_number() OVER (
            PARTITION BY scope ORDER BY "timestamp" DESC, insert_id DESC
        ) AS rn_last,
        row_number() OVER (
            PARTITION BY scope, (severity_number >= 500 OR coalesce(http_status, 0) >= 500)
            ORDER BY "timestamp", insert_id
        ) AS rn_error,
        severity_number >= 500 OR coalesce(http_status, 0) >= 500 AS is_error
    FROM scoped
)
SELECT
    e.scope,
    kind.edge,
    e."timestamp",
    e.insert_id,
    e.log_name,
    e.service,
    e.revision,
    e.instance_id,
    e.signature,
    e.severity,
    e.message
FROM edges AS e
JOIN (VALUES ('first'), ('detection'), ('last')) AS kind (edge)
  ON (kind.edge = 'first' AND e.rn_first = 1)
  OR (kind.edge = 'detection' AND e.is_error AND e.rn_error = 1)
  OR (kind.edge = 'last' AND e.rn_last = 1)
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
SESSION_TABLES = frozenset({"log_entries", "minute_counts", "signature_matches"})


def session_ddl() -> list[str]:
    """Statements every connection runs on open (read-only too): the TEMP macros."""
    return [VOLUME_MACRO, *SCOPE_MACROS]
