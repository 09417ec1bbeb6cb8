-- name: store_time_range
-- description: What the store holds: entry count and the first and last timestamps, per service.
-- params:
-- returns: service, entries, first_entry, last_entry
-- cost: O(runs x hours x groups) rows of the per-run hourly spans (forensics/hour_spans.py), never
--   the entries (a run without current spans is counted from its entries).
SELECT
    coalesce(service, resource_type, '(none)') AS service,
    sum(entries)::BIGINT AS entries,
    min(first_entry) AS first_entry,
    max(last_entry) AS last_entry
FROM hour_spans_all()
GROUP BY ALL
ORDER BY entries DESC, service
