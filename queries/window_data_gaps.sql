-- name: window_data_gaps
-- description: Sources that could not be collected completely for some part of the window.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: source, start, end, reason
SELECT
    source,
    greatest("start", $since) AS "start",
    least("end", $until) AS "end",
    reason
FROM data_gaps
WHERE "start" < $until
  AND "end" > $since
ORDER BY source, "start"
