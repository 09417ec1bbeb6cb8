-- name: range_service_traffic
-- description: Per Cloud Run service in [$since, $until): requests and 5xx from request logs and from the request_count metric, instance starts from the platform's system log, and how its request logs were collected, so a ratio says whether they are a complete denominator. log_collection: 'full' (a Logging pull without pushdown covered the range), 'pushdown' (only pushdown pulls did: httpRequest.status>=500 and context around errors, so failing requests and a sample), 'file' (file ingests only), 'unknown' (pulled, but no checkpoint records the filter), 'none' (no request log). A file ingest is shown complete (log_complete) when the service's successful (status < 400) request logs fall in at least half of the hours the file ingests hold any Cloud Run entry in (log_ok_hours of log_active_hours): a filtered export holds none, a partial or sampled one too few, and a service with too little traffic to tell gets no ratio from logs. An empty $services means every service.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $services VARCHAR[]
-- returns: service, log_requests, log_5xx, log_ok, log_pushdown, log_collection, log_complete, log_ok_hours, log_active_hours, instance_starts, metric_requests, metric_5xx
WITH pulls AS (  -- the Cloud Run revision log pulls over the range, and their filters
    SELECT
        count(*) FILTER (
            WHERE NOT contains(query, 'httpRequest.status')
              AND regexp_matches(source, '^logging:[^:]+:run$')
        ) > 0 AS full_pull,
        count(*) FILTER (
            WHERE contains(query, 'httpRequest.status')
               OR regexp_matches(source, '^logging:[^:]+:run-context$')
        ) > 0 AS pushdown_pull
    FROM collect_checkpoints
    WHERE regexp_matches(source, '^logging:[^:]+:run(~[0-9]+|-context)?$')
      AND window_start < $until
      AND window_end > $since
),
file_hours AS (  -- the hours file ingests cover: any Cloud Run entry of any service
    SELECT count(DISTINCT date_trunc('hour', "timestamp")) AS log_active_hours
    FROM entries
    WHERE "timestamp" >= $since
      AND "timestamp" < $until
      AND resource_type = 'cloud_run_revision'
      AND NOT starts_with(source, 'logging:')
),
scoped AS (
    SELECT
        service,
        log_id,
        http_status,
        message,
        date_trunc('hour', "timestamp") AS hour,
        starts_with(source, 'logging:') AS pulled  -- a collector's source, else a file path
    FROM entries
    WHERE "timestamp" >= $since
      AND "timestamp" < $until
      AND resource_type = 'cloud_run_revision'
      AND (len($services) = 0 OR list_contains($services, service))
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
        count(*) FILTER (WHERE log_id = 'run.googleapis.com/requests' AND pulled)
            AS pulled_requests,
        count(DISTINCT hour) FILTER (
            WHERE log_id = 'run.googleapis.com/requests' AND http_status < 400 AND NOT pulled
        ) AS log_ok_hours,
        count(*) FILTER (
            WHERE log_id = 'run.googleapis.com/varlog/system'
              AND message LIKE 'Starting new instance%'
        ) AS instance_starts
    FROM scoped
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
),
judged AS (
    SELECT
        l.*,
        f.log_active_hours,
        CASE
            WHEN coalesce(l.log_requests, 0) = 0 THEN 'none'
            WHEN p.full_pull THEN 'full'
            WHEN l.pulled_requests > 0 AND p.pushdown_pull THEN 'pushdown'
            WHEN l.pulled_requests > 0 THEN 'unknown'
            ELSE 'file'
        END AS log_collection
    FROM logs AS l, pulls AS p, file_hours AS f
)
SELECT
    coalesce(j.service, m.service) AS service,
    coalesce(j.log_requests, 0) AS log_requests,
    coalesce(j.log_5xx, 0) AS log_5xx,
    coalesce(j.log_ok, 0) AS log_ok,
    coalesce(j.log_collection = 'pushdown', false) AS log_pushdown,
    coalesce(j.log_collection, 'none') AS log_collection,
    CASE j.log_collection
        WHEN 'full' THEN true
        WHEN 'file' THEN j.log_ok_hours > 0 AND 2 * j.log_ok_hours >= j.log_active_hours
        ELSE false
    END AS log_complete,
    coalesce(j.log_ok_hours, 0) AS log_ok_hours,
    coalesce(j.log_active_hours, 0) AS log_active_hours,
    coalesce(j.instance_starts, 0) AS instance_starts,
    m.metric_requests,
    m.metric_5xx
FROM judged AS j
FULL OUTER JOIN metrics AS m
  ON m.service = j.service
WHERE coalesce(j.service, m.service) IS NOT NULL
ORDER BY service
