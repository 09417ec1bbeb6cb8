-- name: window_log_pulls
-- description: The Cloud Run revision log pulls (collect_checkpoints) overlapping [$since, $until) and how they were filtered: full (no httpRequest.status pushdown: every request log was pulled) or pushdown (httpRequest.status>=500 and context around errors: failing requests and a sample). forensics/incidents/traffic.py asks it which pulls overlap each range.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: window_start, window_end, full_pull, pushdown_pull
-- cost: O(checkpoints): one scan of collect_checkpoints (a row per pull).
SELECT
    window_start,
    window_end,
    NOT contains(query, 'httpRequest.status')
        AND regexp_matches(source, '^logging:[^:]+:run$') AS full_pull,
    contains(query, 'httpRequest.status')
        OR regexp_matches(source, '^logging:[^:]+:run-context$') AS pushdown_pull
FROM collect_checkpoints
WHERE regexp_matches(source, '^logging:[^:]+:run(~[0-9]+|-context)?$')
  AND window_start < $until
  AND window_end > $since
ORDER BY window_start
