-- name: minute_metric_runs
-- description: Runs of consecutive minutes where a resource's metric stays at or over a threshold (or above the fewest the resource ever ran): the metric signals.
-- params: $metric_type VARCHAR, $threshold DOUBLE, $min_points INTEGER, $sum_series BOOLEAN, $above_baseline BOOLEAN
-- returns: service, resource_type, resource_labels, start, end, points, peak, baseline
-- cost: run when a collect rebuilds the signals table (forensics/collectors/signals.py), not by
--   an analysis, which reads that table (queries/window_signals.sql). Every point of
--   $metric_type in the store: O(p) to put them into resource-minutes, a hash join with each
--   resource's smallest value and one sort per resource for both windows: O(q log q) for the q
--   resource-minutes. The baseline ("the fewest the resource ever ran") needs all of them.
-- Values: a distribution counts by its value_max (at least one sample was that high) and a
-- '%' unit becomes a fraction, so every utilization compares with a fraction threshold.
-- $sum_series sums the series of one resource in one minute (num_backends per database) instead
-- of taking their max.
-- $above_baseline replaces the threshold by "more than the resource's smallest value" (a
-- connector that scaled out: they never scale back in).
WITH per_point AS (
    SELECT
        service,
        resource_type,
        resource_labels::VARCHAR AS resource_labels,
        date_trunc('minute', point_time) AS minute,
        min(coalesce(start_time, point_time)) AS first_start,
        max(point_time) AS last_end,
        CASE
            WHEN $sum_series THEN sum(v)
            ELSE max(v)
        END AS v
    FROM (
        SELECT
            *,
            greatest(coalesce(value_max, value), value)
                / CASE WHEN unit = '%' THEN 100.0 ELSE 1.0 END AS v
        FROM metric_points
        WHERE metric_type = $metric_type
    ) AS points
    GROUP BY ALL
),
baselines AS (
    SELECT service, resource_type, resource_labels, min(v) AS baseline
    FROM per_point
    GROUP BY ALL
),
over_threshold AS (
    SELECT
        p.*,
        b.baseline,
        CASE
            WHEN date_diff('second', lag(p.minute) OVER by_resource, p.minute) <= 60 THEN 0
            ELSE 1
        END AS starts_run
    FROM per_point AS p
    JOIN baselines AS b
      ON p.service IS NOT DISTINCT FROM b.service
     AND p.resource_type = b.resource_type
     AND p.resource_labels = b.resource_labels
    WHERE CASE WHEN $above_baseline THEN p.v > b.baseline ELSE p.v >= $threshold END
    WINDOW by_resource AS (
        PARTITION BY p.service, p.resource_type, p.resource_labels ORDER BY p.minute
    )
),
numbered AS (
    SELECT
        *,
        sum(starts_run) OVER (
            PARTITION BY service, resource_type, resource_labels
            ORDER BY minute
            ROWS UNBOUNDED PRECEDING
        ) AS run
    FROM over_threshold
)
SELECT
    service,
    resource_type,
    resource_labels,
    min(first_start) AS start,
    max(last_end) AS "end",
    count(*) AS points,
    max(v) AS peak,
    any_value(baseline) AS baseline
FROM numbered
GROUP BY service, resource_type, resource_labels, run
HAVING count(*) >= $min_points
ORDER BY start, service
