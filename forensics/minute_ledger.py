"""The per-minute and per-hour ledgers: each ingest run's entries counted, written once per run.

``MINUTE_LEDGER`` is a per-run derived table (forensics.derived): writers store a run's rows
when it is classified (forensics.pipeline.classify_pending), and ``minute_volume``
(forensics.store_macros) reads whole minutes of history from it, so a volume or traffic count
over days of history reads O(minutes x groups) ledger rows, not every entry; a run without
current rows (an older store, changed SQL, a run that grew) is counted from log_entries.

``HOUR_LEDGER`` is the same count per UTC hour for the Cloud Run entries only, by source,
service and HTTP status (what traffic counts: requests, 5xx, successful ones, instance starts,
whether a file ingest holds the hour). ``hour_volume(since, until, cuts)`` reads the hours
traffic takes whole from it (``whole_hours_sql``: no cut and no counted minute inside), and
``minute_volume(..., hourly := true)`` leaves those out, so the traffic since a claimed fix days
before the window reads O(hours x groups) rows, a sixtieth of the minutes' (queries/
part_service_traffic.sql). Cost of writing each: one scan and hash aggregate of the new runs'
entries.
"""

from __future__ import annotations

from forensics.derived import WHERE_MARK, Derived
from forensics.hour_spans import HOUR_SQL, whole_hours_sql
from forensics.store_macros import LEDGER_ROWS_SQL, STARTS_SQL

__all__ = ["HOUR_LEDGER", "MINUTE_LEDGER", "hour_volume_macro"]

MINUTE_LEDGER = Derived("minute_ledger", LEDGER_ROWS_SQL)

# "timestamp": the hour's start, so one test of it scopes the stored rows and the entries alike
HOUR_LEDGER = Derived(
    "hour_ledger",
    f"""
SELECT e.ingest_id, {HOUR_SQL.format(ts='e."timestamp"')} AS "timestamp",
       e.source, e.service, e.http_status,
       {STARTS_SQL} AS instance_starts,
       count(*) AS entries
FROM log_entries AS e
WHERE {WHERE_MARK} AND e.resource_type = 'cloud_run_revision'
GROUP BY ALL""",
)


def hour_volume_macro() -> str:
    """The TEMP macro ``hour_volume(since, until, cuts := [...])``: the Cloud Run entries of the
    hours ``whole_hours_sql`` names, one row per part, hour, source, service and HTTP status,
    in ``minute_volume``'s columns (``minute``: the hour's start; never counted). Stored rows
    of the runs whose hour_ledger rows are current, the others' from their entries (pruned to
    nothing when every run is current). Cost: O(hours x groups) stored rows, an ASOF join of
    the distinct hours with the parts."""
    hour = HOUR_SQL.format(ts='e."timestamp"')
    scope = (
        'e."timestamp" >= CAST(since AS TIMESTAMPTZ) AND e."timestamp" < CAST(until AS '
        f"TIMESTAMPTZ) AND {hour} IN (SELECT h FROM whole_hours)"
    )
    return f"""
CREATE OR REPLACE TEMP MACRO hour_volume(
    since, until, cuts := CAST([] AS TIMESTAMPTZ[])
) AS TABLE
WITH parts AS (
    SELECT unnest(list_concat([CAST(since AS TIMESTAMPTZ)], cuts)) AS part
),
whole_hours AS (
    {whole_hours_sql("true")}
),
hours AS (
    {HOUR_LEDGER.scoped(scope)}
),
hour_parts AS (  -- each distinct hour's part (no cut falls inside a whole hour)
    SELECT s.hour, p.part
    FROM (SELECT DISTINCT "timestamp" AS hour FROM hours) AS s
    ASOF JOIN parts AS p
      ON s.hour >= p.part
)
SELECT hp.part, h."timestamp" AS minute, h.source, false AS counted, h.service,
       'cloud_run_revision' AS resource_type, NULL::VARCHAR AS log_id, NULL::VARCHAR AS severity,
       NULL::SMALLINT AS severity_number, h.http_status, h.http_status IS NOT NULL AS request,
       h.instance_starts, h.entries
FROM hours AS h
JOIN hour_parts AS hp ON hp.hour = h."timestamp"
"""
