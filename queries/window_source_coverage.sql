-- name: window_source_coverage
-- description: Entries in the window per evidence source (the collectors' source keys), to tell "no evidence" from "not collected".
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: run, run_audit, cloudsql, connector
SELECT
    count(*) FILTER (
        WHERE resource_type = 'cloud_run_revision' AND log_id LIKE 'run.googleapis.com/%'
    ) AS run,
    count(*) FILTER (
        WHERE log_id LIKE 'cloudaudit.googleapis.com/%' AND resource_type LIKE 'cloud_run%'
    ) AS run_audit,
    count(*) FILTER (WHERE resource_type = 'cloudsql_database') AS cloudsql,
    count(*) FILTER (WHERE resource_type = 'vpc_access_connector') AS connector
FROM entries
WHERE "timestamp" >= $since
  AND "timestamp" < $until
