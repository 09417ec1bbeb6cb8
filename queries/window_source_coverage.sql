-- name: window_source_coverage
-- description: Entries in the window per evidence source (the collectors' source keys), to tell "no evidence" from "not collected", from minute_volume: entries brought home, or a BigQuery source's per-minute counts, which name their resource type and log like stored entries; counted rows written before 0.4 name neither, so there the run source counts their requests (entries with an HTTP status), all such a count can tell.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: run, run_audit, cloudsql, connector
-- cost: O(entries in the window): one timestamp-pruned scan and hash aggregates.
SELECT
    coalesce(sum(entries) FILTER (
        WHERE (resource_type = 'cloud_run_revision' AND log_id LIKE 'run.googleapis.com/%')
           OR (counted AND log_id IS NULL AND request)  -- minute_counts from before 0.4
    ), 0)::BIGINT AS run,
    coalesce(sum(entries) FILTER (
        WHERE log_id LIKE 'cloudaudit.googleapis.com/%' AND resource_type LIKE 'cloud_run%'
    ), 0)::BIGINT AS run_audit,
    coalesce(sum(entries) FILTER (WHERE resource_type = 'cloudsql_database'), 0)::BIGINT AS cloudsql,
    coalesce(sum(entries) FILTER (WHERE resource_type = 'vpc_access_connector'), 0)::BIGINT
        AS connector
FROM minute_volume($since, $until)
