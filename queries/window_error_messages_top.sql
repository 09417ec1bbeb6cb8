-- name: window_error_messages_top
-- description: The most frequent ERROR-or-worse messages in the window, standalone numbers masked so variants group.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $limit INTEGER
-- returns: service, message, n, first_seen, last_seen, example_insert_id
-- cost: O(error rows in the window): error_messages_in (forensics/window_rows.py, the masked messages stored per ingest run) and one hash aggregate.
SELECT
    service,
    message,
    count(*) AS n,
    min("timestamp") AS first_seen,
    max("timestamp") AS last_seen,
    min(insert_id) AS example_insert_id
FROM error_messages_in($since, $until)
GROUP BY ALL
ORDER BY n DESC, message
LIMIT $limit
