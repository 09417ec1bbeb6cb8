-- name: window_data_gaps
-- description: Sources that could not be collected completely in the window: analysis must say its data is incomplete there.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: source, start, end, reason, recorded
-- cost: O(g) for the g recorded gaps (data_gaps: one row per gap a collector recorded, few).
SELECT
    source,
    greatest(start, $since) AS start,
    least("end", $until) AS "end",
    reason,
    recorded
FROM data_gaps
WHERE start < $until
  AND "end" > $since
ORDER BY source, start
