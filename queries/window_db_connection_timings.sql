-- name: window_db_connection_timings
-- description: Database connection attempts with a duration in the window: DB-init and validation timeouts (a failure that took at least the logged timeout) and logged connection timings ("connected to the database in 2.3s").
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: timestamp, service, revision, insert_id, outcome, seconds
-- cost: O(matches + timed lines in the window): signature_matches and db_timings_in, both timestamp-pruned.
WITH failed AS (
    SELECT
        "timestamp", service, revision, insert_id,
        'timeout' AS outcome,
        TRY_CAST(json_extract_string(params, '$.timeout_s') AS DOUBLE) AS seconds
    FROM signature_matches
    WHERE signature = 'startup/db-init-timeout'
      AND "timestamp" >= $since
      AND "timestamp" < $until
),
succeeded AS (  -- logged connection times, stored per ingest run (forensics/window_rows.py)
    SELECT "timestamp", service, revision, insert_id, 'connected' AS outcome, seconds
    FROM db_timings_in($since, $until)
)
SELECT * FROM failed WHERE seconds IS NOT NULL
UNION ALL
SELECT * FROM succeeded WHERE seconds IS NOT NULL
ORDER BY "timestamp", insert_id
