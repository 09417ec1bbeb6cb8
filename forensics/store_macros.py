"""The store's session macros: SQL every connection defines on open, read-only ones too.

Kept apart from the table declarations (forensics.schema) because these are queries over the
tables, not their shape: they change with how the analysis counts, not with what is stored.
"""

from __future__ import annotations

from forensics.schema import SEVERITY_LEVELS

__all__ = ["SESSION_TABLES", "VOLUME_MACRO", "session_ddl"]


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


SESSION_TABLES = frozenset({"log_entries", "minute_counts"})  # what the TEMP macros read


def session_ddl() -> list[str]:
    """Statements every connection runs on open (read-only too): the TEMP macros."""
    return [VOLUME_MACRO]
