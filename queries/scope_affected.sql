-- name: scope_affected
-- description: For one incident's scope (time range, signatures unless $signatures is empty, and services unless $services is empty: another incident's 503s at the same time are not this one's): the services, revisions and instances its matches touched, and the instances that failed to start (a failed-start signature from $failed_start).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $signatures VARCHAR, $services VARCHAR, $failed_start VARCHAR
-- returns: matches, services, revisions, revision_list, instances, failed_start_entries, failed_start_instances
WITH scoped AS (
    SELECT
        signature,
        coalesce(service, '(none)') AS service,
        revision,
        instance_id,
        list_contains(
            string_split(CAST($failed_start AS VARCHAR), ','), signature
        ) AS failed_start
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" >= $since
      AND "timestamp" <= $until
      AND (
          CAST($signatures AS VARCHAR) = ''
          OR list_contains(string_split(CAST($signatures AS VARCHAR), ','), signature)
      )
      AND (
          CAST($services AS VARCHAR) = ''
          OR list_contains(string_split(CAST($services AS VARCHAR), ','), service)
      )
)
SELECT
    count(*) AS matches,
    coalesce(string_agg(DISTINCT service, ',' ORDER BY service), '') AS services,
    count(DISTINCT nullif(revision, '')) AS revisions,
    coalesce(string_agg(DISTINCT nullif(revision, ''), ',' ORDER BY nullif(revision, '')), '') AS revision_list,
    count(DISTINCT instance_id) AS instances,
    count(*) FILTER (WHERE failed_start) AS failed_start_entries,
    count(DISTINCT instance_id) FILTER (WHERE failed_start) AS failed_start_instances
FROM scoped
