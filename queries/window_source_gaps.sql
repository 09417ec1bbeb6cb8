-- name: window_source_gaps
-- description: Recorded data gaps (sources that could not be collected) overlapping the window.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: source, start, end, reason
-- cost: O(g) for the g recorded gaps (data_gaps: one row per gap a collector recorded, few).
SELECT source, "start", "end", reason
FROM data_gaps
WHERE "start" < $until
  AND "end" > $since
ORDER BY source, "start"
