-- name: window_instance_startups
-- description: Cloud Run instances started in the window: when each started, when the app said it was ready (else when the startup probe passed), and when it failed (exit, kill or failed probe) if it did. Only the instance's own events after its start and within $bound_s of it count: a ready line pulled in as context hours later (a worker restart) is not this start's.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bound_s DOUBLE
-- returns: instance_id, service, revision, started, app_ready, probe_ok, failed
-- cost: O(instance events in the window and $bound_s after it): instance_events_in (forensics/window_rows.py, stored per ingest run) and hash aggregates; the start-to-event pairing is a hash join on the instance, bounded by $bound_s.
WITH event AS (
    SELECT instance_id, service, revision, "timestamp", kind
    FROM instance_events_in(
        $since,
        CAST($until AS TIMESTAMPTZ) + to_microseconds(CAST($bound_s * 1000000 AS BIGINT))
    )
),
starts AS (
    SELECT instance_id, min("timestamp") AS started
    FROM event
    WHERE kind = 'start'
    GROUP BY instance_id
    HAVING min("timestamp") >= $since AND min("timestamp") < $until
)
SELECT
    s.instance_id,
    any_value(e.service) AS service,
    any_value(e.revision) AS revision,
    s.started,
    min(e."timestamp") FILTER (WHERE e.kind = 'app_ready') AS app_ready,
    min(e."timestamp") FILTER (WHERE e.kind = 'probe_ok') AS probe_ok,
    min(e."timestamp") FILTER (WHERE e.kind = 'failed') AS failed
FROM starts AS s
JOIN event AS e
  ON e.instance_id = s.instance_id
 AND e."timestamp" >= s.started
 AND e."timestamp" <= s.started + to_microseconds(CAST($bound_s * 1000000 AS BIGINT))
GROUP BY s.instance_id, s.started
ORDER BY s.started
