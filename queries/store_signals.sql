-- name: store_signals
-- description: Metric signals (threshold crossings with a time range) that started before $until.
-- params: $until TIMESTAMPTZ
-- returns: signal, service, resource_type, metric_type, start, end, peak, threshold
SELECT signal, service, resource_type, metric_type, "start", "end", peak, threshold
FROM signals
WHERE "start" < $until
ORDER BY "start", signal, service
