-- name: window_signature_service_counts
-- description: Entries matching each signature per service in the window (any match, and as primary), with first/last seen and an example entry.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: signature, service, n, n_primary, first_seen, last_seen, example_insert_id
-- cost: the window's matches (signature_matches filtered on timestamp), one hash aggregate:
--   O(m) for the m matches in the window.
SELECT
    signature,
    service,
    count(*) AS n,
    count(*) FILTER (WHERE is_primary) AS n_primary,
    min("timestamp") AS first_seen,
    max("timestamp") AS last_seen,
    min(insert_id) AS example_insert_id
FROM signature_matches
WHERE "timestamp" >= $since
  AND "timestamp" < $until
GROUP BY signature, service
ORDER BY signature, service
