-- name: store_signals
-- description: Metric signals (threshold crossings with a time range) that started before $until and ended at or after $since (the look-back).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: signal, service, resource_type, metric_type, start, end, peak, threshold
-- cost: one scan of the signals table (a few rows per threshold crossing): O(s) for its s rows.
SELECT signal, service, resource_type, metric_type, "start", "end", peak, threshold
FROM signals
WHERE "start" < $until
  AND "end" >= $since
ORDER BY "start", signal, service
