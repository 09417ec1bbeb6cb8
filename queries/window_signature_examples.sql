-- name: window_signature_examples
-- description: Representative lines per signature (primary matches) in the window: the first $per_signature entries and the last one, with the entry's identity and full message.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $per_signature INTEGER
-- returns: signature, pick, "timestamp", insert_id, log_name, log_id, service, revision, instance_id, severity, http_status, trace, message
WITH ranked AS (
    SELECT
        m.signature,
        m."timestamp",
        m.insert_id,
        m.log_name,
        row_number() OVER (PARTITION BY m.signature ORDER BY m."timestamp", m.insert_id) AS rn_first,
        row_number() OVER (
            PARTITION BY m.signature ORDER BY m."timestamp" DESC, m.insert_id DESC
        ) AS rn_last
    FROM signature_matches AS m
    WHERE m.is_primary
      AND m."timestamp" >= $since
      AND m."timestamp" < $until
)
SELECT
    r.signature,
    CASE WHEN r.rn_first <= $per_signature THEN 'first' ELSE 'last' END AS pick,
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
WHERE (r.rn_first <= $per_signature OR r.rn_last = 1)
  AND e."timestamp" >= $since  -- lets the scan skip the entries outside the window
  AND e."timestamp" < $until
ORDER BY r.signature, e."timestamp", e.insert_id
