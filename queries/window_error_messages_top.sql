-- name: window_error_messages_top
-- description: The most frequent ERROR-or-worse messages in the window, standalone numbers masked so variants group.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $limit INTEGER
-- returns: service, message, n, first_seen, last_seen, example_insert_id
SELECT
    coalesce(service, resource_type, '(none)') AS service,
    regexp_replace(left(message, 300), '\b[0-9]+(\.[0-9]+)?\b', 'N', 'g') AS message,
    count(*) AS n,
    min("timestamp") AS first_seen,
    max("timestamp") AS last_seen,
    min(insert_id) AS example_insert_id
FROM entries
WHERE "timestamp" >= $since
  AND "timestamp" < $until
  AND (severity_number >= 500 OR http_status >= 500)
GROUP BY ALL
ORDER BY n DESC, message
LIMIT $limit
