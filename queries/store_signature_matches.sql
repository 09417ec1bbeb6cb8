-- name: store_signature_matches
-- description: Every signature match in [$since, $until) (the look-back: forensics/incidents/lookback.py; primary and secondary) with the entry facts incidents and statuses need.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: timestamp, log_name, insert_id, signature, is_primary, service, revision, instance_id, trace, resource_type, log_id
-- cost: O(m) matches in the range, hash-joined on the identity with the range's entries: O(n) in the look-back, never the store.
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
WHERE m."timestamp" >= $since
  AND m."timestamp" < $until
  AND e."timestamp" >= $since
  AND e."timestamp" < $until
ORDER BY m."timestamp", m.insert_id, m.signature
