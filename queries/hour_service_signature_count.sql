-- name: hour_service_signature_count
-- description: Entries per hour, service and primary signature in the window (classify the window first).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: hour, service, signature, n, first_seen, last_seen
SELECT
    date_trunc('hour', "timestamp") AS hour,
    coalesce(service, '(none)') AS service,
    signature,
    count(*) AS n,
    min("timestamp") AS first_seen,
    max("timestamp") AS last_seen
FROM signature_matches
WHERE is_primary
  AND "timestamp" >= $since
  AND "timestamp" < $until
GROUP BY ALL
ORDER BY hour, service, signature
