-- name: store_signature_matches
-- description: Every signature match before $until (primary and secondary) with the entry facts incidents and statuses need.
-- params: $until TIMESTAMPTZ
-- returns: timestamp, log_name, insert_id, signature, is_primary, service, revision, instance_id, trace, resource_type, log_id
SELECT
    m."timestamp",
    m.log_name,
    m.insert_id,
    m.signature,
    m.is_primary,
    coalesce(m.service, e.resource_type, '(unknown)') AS service,
    m.revision,
    m.instance_id,
    m.trace,
    e.resource_type,
    e.log_id
FROM signature_matches AS m
JOIN entries AS e
  ON e."timestamp" = m."timestamp"
 AND e.log_name = m.log_name
 AND e.insert_id = m.insert_id
WHERE m."timestamp" < $until
ORDER BY m."timestamp", m.insert_id, m.signature
