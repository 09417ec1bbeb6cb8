-- name: range_signature_presence
-- description: How many signature matches (primary or secondary) of $signatures lie in [$since, $until): the test that tells whether a claimed fix older than the baseline look-back has any direct evidence between the fix and the baseline (forensics/incidents/lookback.py), read from signature_matches alone, never from entries.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $signatures VARCHAR[]
-- returns: n
-- cost: one scan of signature_matches in the range (a few per cent of the entries): O(m), no join.
SELECT count(*) AS n
FROM signature_matches
WHERE "timestamp" >= $since
  AND "timestamp" < $until
  AND list_contains($signatures, signature)
