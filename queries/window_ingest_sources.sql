-- name: window_ingest_sources
-- description: The sources collected: per source, its ingest runs and how many of the window's log entries and metric points it holds.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: source, runs, accepted, duplicates, rejected, unfinished_runs, first_started, last_finished, entries_in_window, points_in_window
-- cost: the ingest_id of the window's entries and metric points (scans filtered on time, so
--   O(e + p) for the e entries and p points in the window), hash-aggregated per run, then
--   every ingest run (O(r), a small table: the report lists each source) grouped by source.
WITH entries_in AS (
    SELECT
        ingest_id,
        count(*) AS n
    FROM log_entries
    WHERE "timestamp" >= $since
      AND "timestamp" < $until
    GROUP BY ingest_id
),
points_in AS (
    SELECT
        ingest_id,
        count(*) AS n
    FROM metric_points
    WHERE point_time >= $since
      AND point_time < $until
    GROUP BY ingest_id
)
SELECT
    r.source,
    count(*) AS runs,
    CAST(sum(r.accepted) AS BIGINT) AS accepted,
    CAST(sum(r.duplicates) AS BIGINT) AS duplicates,
    CAST(sum(r.rejected) AS BIGINT) AS rejected,
    count(*) FILTER (WHERE r.status <> 'complete') AS unfinished_runs,
    min(r.started) AS first_started,
    max(r.finished) AS last_finished,
    CAST(coalesce(sum(e.n), 0) AS BIGINT) AS entries_in_window,
    CAST(coalesce(sum(p.n), 0) AS BIGINT) AS points_in_window
FROM ingest_runs AS r
LEFT JOIN entries_in AS e ON e.ingest_id = r.ingest_id
LEFT JOIN points_in AS p ON p.ingest_id = r.ingest_id
GROUP BY r.source
ORDER BY r.source
