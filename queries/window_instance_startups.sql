-- name: window_instance_startups
-- description: Cloud Run instances started in the window: when each started, when the app said it was ready (else when the startup probe passed), and when it failed (exit, kill or failed probe) if it did.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
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
      AND "timestamp" < CAST($until AS TIMESTAMPTZ) + INTERVAL 10 MINUTE
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
)
SELECT
    instance_id,
    any_value(service) AS service,
    any_value(revision) AS revision,
    min("timestamp") FILTER (WHERE kind = 'start') AS started,
    min("timestamp") FILTER (WHERE kind = 'app_ready') AS app_ready,
    min("timestamp") FILTER (WHERE kind = 'probe_ok') AS probe_ok,
    min("timestamp") FILTER (WHERE kind = 'failed') AS failed
FROM event
WHERE kind IS NOT NULL
GROUP BY instance_id
HAVING min("timestamp") FILTER (WHERE kind = 'start') < $until
ORDER BY started
