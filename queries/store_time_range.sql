-- name: store_time_range
-- description: What the store holds: entry count and the first and last timestamps, per service.
-- params:
-- returns: service, entries, first_entry, last_entry
SELECT
    coalesce(service, resource_type, '(none)') AS service,
    count(*) AS entries,
    min("timestamp") AS first_entry,
    max("timestamp") AS last_entry
FROM entries
GROUP BY ALL
ORDER BY entries DESC
