-- name: store_revision_first_seen
-- description: Every Cloud Run revision named by entries in [$since, $until) (the look-back) (resource.labels.revision_name) with its first and last entry: a deploy marker where the audit logs were not collected.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: service, revision, first_seen, last_seen, first_insert_id
-- cost: one scan of the look-back's entries and a hash GROUP BY on (service, revision): O(n + revisions).
SELECT
    service,
    revision,
    min("timestamp") AS first_seen,
    max("timestamp") AS last_seen,
    arg_min(insert_id, "timestamp") AS first_insert_id
FROM entries
WHERE "timestamp" >= $since
  AND "timestamp" < $until
  AND resource_type = 'cloud_run_revision'
  AND coalesce(revision, '') <> ''
GROUP BY service, revision
ORDER BY first_seen
