-- name: bucket_service_request_metrics
-- description: Cloud Monitoring run.googleapis.com/request_count per time bucket ($bucket_s seconds) and service: requests and 5xx responses (when request logs were not pulled, volumes come from here).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bucket_s INTEGER
-- returns: bucket, service, requests, failed
-- cost: the window's request_count points (metric_points filtered on point_time), one hash
--   aggregate: O(p) for the p points in the window; the rows out are buckets x services.
SELECT
    to_timestamp(floor(epoch(point_time) / $bucket_s) * $bucket_s) AS bucket,
    coalesce(service, '(none)') AS service,
    sum(value) AS requests,
    coalesce(sum(value) FILTER (WHERE (metric_labels->>'response_code_class') = '5xx'), 0) AS failed
FROM metric_points
WHERE metric_type = 'run.googleapis.com/request_count'
  AND point_time > $since
  AND point_time <= $until
GROUP BY ALL
ORDER BY bucket, service
