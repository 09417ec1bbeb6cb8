-- name: store_revision_first_seen
-- description: Every Cloud Run revision named by entries in [$since, $until) (the look-back) (resource.labels.revision_name) with its first and last entry: a deploy marker where the audit logs were not collected.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: service, revision, first_seen, last_seen, first_insert_id
-- cost: O(hours x groups) rows of the per-run hourly spans of the hours wholly inside the
--   look-back, and the entries of the (at most two) hours an end falls inside, each a
--   timestamp-pruned scan (forensics/hour_spans.py); a hash GROUP BY on (service, revision).
SELECT
    service,
    revision,
    min(first_entry) AS first_seen,
    max(last_entry) AS last_seen,
    arg_min(first_insert_id, (first_entry, first_insert_id)) AS first_insert_id
FROM hour_spans_in($since, $until)
WHERE resource_type = 'cloud_run_revision'
  AND coalesce(revision, '') <> ''
GROUP BY service, revision
ORDER BY first_seen, service, revision
