-- name: window_signature_summary
-- description: Per signature (primary matches) in the window: count, services, revisions and instances touched, and the first and last entries with their identity.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: signature, n, services, revisions, instances, first_seen, first_insert_id, first_revision, last_seen, last_insert_id, last_revision, catalog_versions
WITH matches AS (
    SELECT
        signature,
        "timestamp",
        insert_id,
        coalesce(service, '(none)') AS service,
        revision,
        instance_id,
        catalog_version,
        row_number() OVER (PARTITION BY signature ORDER BY "timestamp", insert_id) AS rn_first,
        row_number() OVER (PARTITION BY signature ORDER BY "timestamp" DESC, insert_id DESC) AS rn_last
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" >= $since
      AND "timestamp" < $until
)
SELECT
    signature,
    count(*) AS n,
    string_agg(DISTINCT service, ',' ORDER BY service) AS services,
    count(DISTINCT nullif(revision, '')) AS revisions,
    count(DISTINCT instance_id) AS instances,
    min("timestamp") FILTER (WHERE rn_first = 1) AS first_seen,
    min(insert_id) FILTER (WHERE rn_first = 1) AS first_insert_id,
    min(revision) FILTER (WHERE rn_first = 1) AS first_revision,
    max("timestamp") FILTER (WHERE rn_last = 1) AS last_seen,
    max(insert_id) FILTER (WHERE rn_last = 1) AS last_insert_id,
    max(revision) FILTER (WHERE rn_last = 1) AS last_revision,
    string_agg(DISTINCT catalog_version, ',' ORDER BY catalog_version) AS catalog_versions
FROM matches
GROUP BY signature
ORDER BY n DESC, signature
