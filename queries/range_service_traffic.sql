-- name: range_service_traffic
-- description: Per Cloud Run service in [$since, $until): requests and 5xx from request logs and from the request_count metric, and instance starts from the platform's system log. An empty $services means every service. Request logs are a ratio's denominator only when pulled in full (log_pushdown false: pushdown keeps only httpRequest.status>=500) and holding successful requests too (log_ok > 0); otherwise every ratio over them is 100 % by construction.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $services VARCHAR[]
-- returns: service, log_requests, log_5xx, log_ok, log_pushdown, instance_starts, metric_requests, metric_5xx
WITH pushdown AS (
    SELECT count(*) > 0 AS pushdown
    FROM collect_checkpoints
    WHERE regexp_matches(source, '^logging:[^:]+:run(~[0-9]+)?$')
      AND contains(query, 'httpRequest.status>=500')
      AND window_start < $until
      AND window_end > $since
),
logs AS (
    SELECT
        service,
        count(*) FILTER (WHERE log_id = 'run.googleapis.com/requests') AS log_requests,
        count(*) FILTER (
            WHERE log_id = 'run.googleapis.com/requests' AND http_status >= 500
        ) AS log_5xx,
        count(*) FILTER (
            WHERE log_id = 'run.googleapis.com/requests' AND http_status < 400
        ) AS log_ok,
        count(*) FILTER (
            WHERE log_id = 'run.googleapis.com/varlog/system'
              AND message LIKE 'Starting new instance%'
        ) AS instance_starts
    FROM entries
    WHERE "timestamp" >= $since
      AND "timestamp" < $until
      AND resource_type = 'cloud_run_revision'
      AND (len($services) = 0 OR list_contains($services, service))
    GROUP BY service
),
metrics AS (
    SELECT
        service,
        sum(value) AS metric_requests,
        coalesce(sum(value) FILTER (
            WHERE json_extract_string(metric_labels, '$.response_code_class') = '5xx'
        ), 0) AS metric_5xx
    FROM metric_points
    WHERE metric_type = 'run.googleapis.com/request_count'
      AND point_time > $since
      AND point_time <= $until
      AND (len($services) = 0 OR list_contains($services, service))
    GROUP BY service
)
SELECT
    coalesce(l.service, m.service) AS service,
    coalesce(l.log_requests, 0) AS log_requests,
    coalesce(l.log_5xx, 0) AS log_5xx,
    coalesce(l.log_ok, 0) AS log_ok,
    (SELECT pushdown FROM pushdown) AS log_pushdown,
    coalesce(l.instance_starts, 0) AS instance_starts,
    m.metric_requests,
    m.metric_5xx
FROM logs AS l
FULL OUTER JOIN metrics AS m
  ON m.service = l.service
WHERE coalesce(l.service, m.service) IS NOT NULL
ORDER BY service
