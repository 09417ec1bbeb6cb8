-- name: hour_service_severity_volume
-- description: Entries per hour, service and severity in the window, for the volume table.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: hour, service, severity, severity_number, n
SELECT
    date_trunc('hour', "timestamp") AS hour,
    coalesce(service, resource_type, '(none)') AS service,
    severity,
    severity_number,
    count(*) AS n
FROM entries
WHERE "timestamp" >= $since
  AND "timestamp" < $until
GROUP BY ALL
ORDER BY hour, service, severity_number
