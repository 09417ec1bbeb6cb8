-- name: scope_affected
-- description: For one incident's scope (time range, signatures unless $signatures is empty, and services unless $services is empty: another incident's 503s at the same time are not this one's): the services, revisions and instances its matches touched, and the instances that failed to start (a failed-start signature from $failed_start).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $signatures VARCHAR, $services VARCHAR, $failed_start VARCHAR
-- returns: matches, services, revisions, revision_list, instances, failed_start_entries, failed_start_instances
-- cost: the scope's primary matches (timestamp-pruned) and one hash aggregate: O(m) for the m
--   matches in the scope's time range.
-- The scope_facts macro (forensics/store_macros.py) for this one scope: a report computes every
-- scope's facts in one statement with it (forensics/report/postmortem.py).
SELECT * EXCLUDE (scope)
FROM scope_facts([{
    scope: '',
    since: CAST($since AS TIMESTAMPTZ),
    until: CAST($until AS TIMESTAMPTZ),
    signatures: CAST($signatures AS VARCHAR),
    services: CAST($services AS VARCHAR)
}], CAST($failed_start AS VARCHAR))
