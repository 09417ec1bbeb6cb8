-- name: hour_service_severity_volume
-- description: Entries per hour, service and severity in the window, for the volume table: the store's minute_volume (entries brought home, or a BigQuery source's per-minute counts where it counted the minute), so a window collected with --bigquery shows its whole volume.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: hour, service, severity, severity_number, n
-- cost: O(entries in the window): one timestamp-pruned scan and hash aggregates (minute_volume, forensics/schema.py).
SELECT
    date_trunc('hour', minute) AS hour,
    coalesce(service, resource_type, '(none)') AS service,
    severity,
    severity_number,
    sum(entries)::BIGINT AS n
FROM minute_volume($since, $until)
GROUP BY ALL
ORDER BY hour, service, severity_number
