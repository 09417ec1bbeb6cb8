-- name: bucket_service_signature_counts
-- description: Primary signature matches per time bucket ($bucket_s seconds), service and signature, for the report's timeline chart.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bucket_s INTEGER
-- returns: bucket, service, signature, n
-- cost: the window's primary matches (signature_matches filtered on timestamp), one hash
--   aggregate: O(m) for the m matches in the window; the rows out are buckets x services x
--   signatures.
SELECT
    to_timestamp(floor(epoch("timestamp") / $bucket_s) * $bucket_s) AS bucket,
    coalesce(service, '(none)') AS service,
    signature,
    count(*) AS n
FROM signature_matches
WHERE is_primary
  AND "timestamp" >= $since
  AND "timestamp" < $until
GROUP BY ALL
ORDER BY bucket, service, signature
