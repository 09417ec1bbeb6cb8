-- name: scope_match_edges
-- description: For one incident's scope (time range, signatures unless $signatures is empty, and services unless $services is empty: another incident's 503s at the same time are not this one's), the first match, the first ERROR-or-worse match and the last match, each with the entry's identity.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $signatures VARCHAR, $services VARCHAR
-- returns: edge, "timestamp", insert_id, log_name, service, revision, instance_id, signature, severity, message
-- cost: the scope's matches hash-joined with the scope's entries only (both bounded in time),
--   one hash aggregate, then the three picked rows read by identity: O(m + e) for the m matches
--   and e entries in the scope's time range.
-- The scope_edges macro (forensics/store_macros.py) for this one scope: a report computes every
-- scope's edges in one statement with it (forensics/report/postmortem.py).
SELECT * EXCLUDE (scope)
FROM scope_edges([{
    scope: '',
    since: CAST($since AS TIMESTAMPTZ),
    until: CAST($until AS TIMESTAMPTZ),
    signatures: CAST($signatures AS VARCHAR),
    services: CAST($services AS VARCHAR)
}])
ORDER BY "timestamp", edge
