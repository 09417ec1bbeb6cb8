-- name: store_signature_matches
-- description: Every signature match in [$since, $until) (the look-back: forensics/incidents/lookback.py; primary and secondary) with the entry facts incidents and statuses need. resource_type and log_id (read from the entry) are those of the matches from $facts_since on (the window: incidents read them) and of the matches without a service (service falls back to the resource type); NULL for the other matches before $facts_since, whose facts no stage reads.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $facts_since TIMESTAMPTZ
-- returns: timestamp, log_name, insert_id, signature, is_primary, service, revision, instance_id, trace, resource_type, log_id
-- cost: O(m) matches in the range; a hash join on the identity with the entries from
--   $facts_since on (O(w), the window's), and with the look-back's entries only for matches
--   without a service (none: the join's scan stops at once): not O(n) of the look-back.
--   Unordered: load_matches (forensics/incidents/evidence.py) sorts them.
WITH matches AS (
    SELECT *
    FROM signature_matches
    WHERE "timestamp" >= $since
      AND "timestamp" < $until
),
facts AS (  -- matches whose entry facts are read, joined with their entries
    SELECT m.*, e.resource_type, e.log_id
    FROM matches AS m
    JOIN entries AS e USING ("timestamp", log_name, insert_id)
    WHERE m."timestamp" >= $facts_since  -- the window's: one scan of its entries
      AND e."timestamp" >= greatest(CAST($since AS TIMESTAMPTZ), CAST($facts_since AS TIMESTAMPTZ))
      AND e."timestamp" < $until
    UNION ALL
    SELECT m.*, e.resource_type, e.log_id  -- before it, a match without a service (none: the
    FROM matches AS m                      -- join's scan stops at once)
    JOIN entries AS e USING ("timestamp", log_name, insert_id)
    WHERE m."timestamp" < $facts_since AND m.service IS NULL
      AND e."timestamp" >= $since
      AND e."timestamp" < least(CAST($until AS TIMESTAMPTZ), CAST($facts_since AS TIMESTAMPTZ))
    UNION ALL
    SELECT m.*, NULL AS resource_type, NULL AS log_id
    FROM matches AS m
    WHERE m."timestamp" < $facts_since
      AND m.service IS NOT NULL
)
SELECT
    "timestamp",
    log_name,
    insert_id,
    signature,
    is_primary,
    coalesce(service, resource_type, '(unknown)') AS service,
    revision,
    instance_id,
    trace,
    resource_type,
    log_id
FROM facts
