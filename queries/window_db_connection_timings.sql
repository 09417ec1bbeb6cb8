-- name: window_db_connection_timings
-- description: Database connection attempts with a duration in the window: DB-init and validation timeouts (a failure that took at least the logged timeout) and logged connection timings ("connected to the database in 2.3s").
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: timestamp, service, revision, insert_id, outcome, seconds
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
candidate AS (
    SELECT "timestamp", service, revision, insert_id, message
    FROM entries
    WHERE "timestamp" >= $since
      AND "timestamp" < $until
      AND coalesce(log_id, '') NOT IN ('run.googleapis.com/requests', 'run.googleapis.com/varlog/system')
      AND coalesce(log_id, '') NOT LIKE 'cloudaudit.googleapis.com/%'
      AND (message LIKE '%onnect%' OR message LIKE '%nitiali%')  -- LIKE is vectorized; ILIKE is not
      AND regexp_matches(message, '(?i)\b(?:database|postgres(?:ql)?|cloud sql|db)\b[^\n]{0,80}?\b(?:connected|connection (?:established|succeeded|successful|ok)|initiali[sz]ed)\b[^\n]{0,40}?\b(?:in|after|took)\s+\d+(?:\.\d+)?\s*(?:ms|s)\b')
),
succeeded AS (
    SELECT
        "timestamp", service, revision, insert_id,
        'connected' AS outcome,
        TRY_CAST(regexp_extract(message, '(?i)\b(?:in|after|took)\s+(\d+(?:\.\d+)?)\s*(ms|s)\b', 1) AS DOUBLE)
            / CASE WHEN lower(regexp_extract(message, '(?i)\b(?:in|after|took)\s+(\d+(?:\.\d+)?)\s*(ms|s)\b', 2)) = 'ms'
                   THEN 1000.0 ELSE 1.0 END AS seconds
    FROM candidate
)
SELECT * FROM failed WHERE seconds IS NOT NULL
UNION ALL
SELECT * FROM succeeded WHERE seconds IS NOT NULL
ORDER BY "timestamp", insert_id
