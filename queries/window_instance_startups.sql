-- name: window_instance_startups
-- description: Cloud Run instances started in the window: when each started, when the app said it was ready (else when the startup probe passed), and when it failed (exit, kill or failed probe) if it did. Only the instance's own events after its start and within $bound_s of it count: a ready line pulled in as context hours later (a worker restart) is not this start's.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bound_s DOUBLE
-- returns: instance_id, service, revision, started, app_ready, probe_ok, failed
WITH event AS (
    SELECT
        instance_id, service, revision, "timestamp",
        CASE
            WHEN log_id = 'run.googleapis.com/varlog/system'
                 AND message LIKE 'Starting new instance%' THEN 'start'
            WHEN message LIKE '%Application startup complete%'
                 OR message LIKE '%Uvicorn running on%'
                 OR regexp_matches(message, '(?i)\bready in \d') THEN 'app_ready'
            WHEN regexp_matches(message, 'STARTUP (?:TCP|HTTP|GRPC) probe succeeded') THEN 'probe_ok'
            WHEN message LIKE 'Container called exit(%'
                 OR message LIKE 'Container terminated on signal%'
                 OR regexp_matches(message, 'STARTUP (?:TCP|HTTP|GRPC) probe failed')
                 OR message LIKE '%Worker failed to boot%'
                 OR message LIKE '%Application startup failed%' THEN 'failed'
        END AS kind
    FROM entries
    WHERE "timestamp" >= $since
      AND "timestamp" < CAST($until AS TIMESTAMPTZ) + to_microseconds(CAST($bound_s * 1000000 AS BIGINT))
      AND resource_type = 'cloud_run_revision'
      AND coalesce(instance_id, '') <> ''
      -- cheap text tests first: only these lines can be starts, readiness or failures
      AND (
          log_id = 'run.googleapis.com/varlog/system'
          OR message LIKE '%startup%'
          OR message LIKE '%Uvicorn running on%'
          OR message LIKE '%Worker failed to boot%'
          OR message LIKE '%eady in %'
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
WHERE e.kind IS NOT NULL
GROUP BY s.instance_id, s.started
ORDER BY s.started
