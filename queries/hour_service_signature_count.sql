-- name: hour_service_signature_count
-- description: Primary signature matches per hour, service and signature in the window, with the first and last entries (identity and revision), the distinct revisions, instances and catalog versions, and how many fell at or after $recent_since (watch's last interval; $until counts none). The one source of per-signature counts: the analysis' hourly table, the report's per-signature rows (aggregated) and watch's spike check all read it (classify the window first).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $recent_since TIMESTAMPTZ
-- returns: hour, service, signature, n, n_recent, first_seen, first_insert_id, first_revision, last_seen, last_insert_id, last_revision, revisions, instances, catalog_versions
-- cost: the window's primary matches (signature_matches filtered on timestamp), one hash
--   aggregate: O(m) for the m matches in the window, and per group its distinct revisions,
--   instances and catalog versions sorted (O(d log d) for a group's d distinct values).
SELECT
    date_trunc('hour', "timestamp") AS hour,
    coalesce(service, '(none)') AS service,
    signature,
    count(*) AS n,
    count(*) FILTER (WHERE "timestamp" >= $recent_since) AS n_recent,
    min("timestamp") AS first_seen,
    arg_min(insert_id, ("timestamp", insert_id)) AS first_insert_id,
    arg_min(revision, ("timestamp", insert_id)) AS first_revision,
    max("timestamp") AS last_seen,
    arg_max(insert_id, ("timestamp", insert_id)) AS last_insert_id,
    arg_max(revision, ("timestamp", insert_id)) AS last_revision,
    list(DISTINCT revision ORDER BY revision) FILTER (WHERE nullif(revision, '') IS NOT NULL)
        AS revisions,
    list(DISTINCT instance_id ORDER BY instance_id) FILTER (WHERE instance_id IS NOT NULL)
        AS instances,
    list(DISTINCT catalog_version ORDER BY catalog_version) AS catalog_versions
FROM signature_matches
WHERE is_primary
  AND "timestamp" >= $since
  AND "timestamp" < $until
GROUP BY ALL
ORDER BY hour, service, signature
