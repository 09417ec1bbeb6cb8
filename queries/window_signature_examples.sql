-- name: window_signature_examples
-- description: Representative lines per signature (primary matches) in the window: the first $per_signature entries and the last one, with the entry's identity and full message.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $per_signature INTEGER
-- returns: signature, pick, "timestamp", insert_id, log_name, log_id, service, revision, instance_id, severity, http_status, trace, message
-- cost: the window's primary matches (signature_matches filtered on timestamp) in one hash
--   aggregate that keeps each signature's first $per_signature and last match as it streams
--   (no sort of the matches: two row_number() windows sorted them twice, half the statement on
--   a day of 30 % errors), O(m) for the m matches; then those few rows read by identity from
--   the window's entries, O(e) for the scan of the e entries' identity columns.
WITH picked AS (  -- one hash aggregate: each signature's first $per_signature and its last match
    SELECT
        signature,
        arg_min({"timestamp": "timestamp", insert_id: insert_id, log_name: log_name},
                ("timestamp", insert_id), CAST($per_signature AS BIGINT)) AS firsts,
        arg_max({"timestamp": "timestamp", insert_id: insert_id, log_name: log_name},
                ("timestamp", insert_id)) AS final
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" >= $since
      AND "timestamp" < $until
    GROUP BY signature
),
ranked AS (
    SELECT signature, 'first' AS pick, unnest(firsts, recursive := true)
    FROM picked
    UNION ALL
    SELECT signature, 'last' AS pick, unnest(final)
    FROM picked
    WHERE NOT list_contains(firsts, final)
)
SELECT
    r.signature,
    r.pick,
    e."timestamp",
    e.insert_id,
    e.log_name,
    e.log_id,
    e.service,
    e.revision,
    e.instance_id,
    e.severity,
    e.http_status,
    e.trace,
    e.message
FROM ranked AS r
JOIN entries AS e
  ON e."timestamp" = r."timestamp"
 AND e.insert_id = r.insert_id
 AND e.log_name = r.log_name
WHERE e."timestamp" >= $since  -- lets the scan skip the entries outside the window
  AND e."timestamp" < $until
ORDER BY r.signature, e."timestamp", e.insert_id
