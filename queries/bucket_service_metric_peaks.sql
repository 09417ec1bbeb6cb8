-- name: bucket_service_metric_peaks
-- description: The highest value per time bucket ($bucket_s seconds), service and metric type, for the metric overlays of the report's timeline (utilizations, Cloud SQL backends).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bucket_s INTEGER, $metric_types VARCHAR
-- returns: bucket, service, metric_type, peak
-- cost: the window's points of the listed metric types (metric_points filtered on point_time:
--   row groups outside the window are skipped by their min/max), one hash aggregate: O(p) for
--   the p points in the window; the rows out are buckets x services x types.
SELECT
    to_timestamp(floor(epoch(point_time) / $bucket_s) * $bucket_s) AS bucket,
    coalesce(service, '(none)') AS service,
    metric_type,
    max(value) AS peak
FROM metric_points
WHERE list_contains(string_split(CAST($metric_types AS VARCHAR), ','), metric_type)
  AND point_time > $since
  AND point_time <= $until
GROUP BY ALL
ORDER BY bucket, service, metric_type
