-- name: window_signals
-- description: Metric signals (threshold crossings) overlapping the window, with their peak and threshold.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: signal, service, resource_type, start, end, peak, threshold, metric_type
-- cost: O(s) for the s signals (one row per threshold crossing a collect found, few).
SELECT
    signal,
    service,
    resource_type,
    start,
    "end",
    peak,
    threshold,
    metric_type
FROM signals
WHERE start < $until
  AND "end" > $since
ORDER BY start, signal, service
