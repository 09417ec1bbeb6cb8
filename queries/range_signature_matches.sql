-- name: range_signature_matches
-- description: The signature matches (primary and secondary) of $signatures in [$since, $until), from signature_matches alone, never from entries: one tracked issue's direct evidence between its claimed fix and the baseline look-back (forensics/incidents/lookback.py). The service is the match's own (copied from the entry's labels), '(unknown)' without one.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $signatures VARCHAR[]
-- returns: timestamp, log_name, insert_id, signature, is_primary, service, revision, instance_id, trace
-- cost: one scan of signature_matches in the range (a few per cent of the entries): O(m), no join.
SELECT
    "timestamp",
    log_name,
    insert_id,
    signature,
    is_primary,
    coalesce(service, '(unknown)') AS service,
    revision,
    instance_id,
    trace
FROM signature_matches
WHERE "timestamp" >= $since
  AND "timestamp" < $until
  AND list_contains($signatures, signature)
ORDER BY "timestamp", insert_id, signature
