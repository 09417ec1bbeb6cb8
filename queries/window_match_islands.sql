-- name: window_match_islands
-- description: Primary signature matches in the window numbered into islands per service: a gap longer than $gap_s between consecutive matches of a service starts a new island.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $gap_s DOUBLE
-- returns: timestamp, log_name, insert_id, island
-- cost: O(m log m) for the window's m primary matches (signature_matches filtered on
--   timestamp): a sort per service for the gap test and the running island number, and the
--   final order.
WITH marked AS (
    SELECT
        "timestamp",
        log_name,
        insert_id,
        coalesce(service, '(unknown)') AS service,
        CASE
            WHEN lag("timestamp") OVER per_service IS NULL THEN 1
            WHEN "timestamp" - lag("timestamp") OVER per_service > to_seconds($gap_s) THEN 1
            ELSE 0
        END AS starts_island
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" >= $since
      AND "timestamp" < $until
    WINDOW per_service AS (PARTITION BY coalesce(service, '(unknown)') ORDER BY "timestamp", insert_id)
)
SELECT
    "timestamp", log_name, insert_id,
    service || '#' || sum(starts_island) OVER (
        PARTITION BY service ORDER BY "timestamp", insert_id ROWS UNBOUNDED PRECEDING
    ) AS island
FROM marked
ORDER BY "timestamp", insert_id
