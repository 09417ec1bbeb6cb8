-- name: scope_match_edges
-- description: For one incident's scope (time range, signatures unless $signatures is empty, and services unless $services is empty: another incident's 503s at the same time are not this one's), the first match, the first ERROR-or-worse match and the last match, each with the entry's identity.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $signatures VARCHAR, $services VARCHAR
-- returns: edge, "timestamp", insert_id, log_name, service, revision, instance_id, signature, severity, message
-- cost: the scope's matches hash-joined with the scope's entries only (both bounded in time).
WITH scoped AS (
    SELECT
        m."timestamp",
        m.insert_id,
        m.log_name,
        m.signature,
        e.service,
        e.revision,
        e.instance_id,
        e.severity,
        e.severity_number,
        e.http_status,
        e.message
    FROM signature_matches AS m
    JOIN entries AS e
      ON e."timestamp" = m."timestamp"
     AND e.insert_id = m.insert_id
     AND e.log_name = m.log_name
    WHERE m.is_primary
      AND m."timestamp" >= $since
      AND m."timestamp" <= $until
      AND e."timestamp" >= $since  -- lets the scan skip the entries outside the scope
      AND e."timestamp" <= $until
      AND (
          CAST($signatures AS VARCHAR) = ''
          OR list_contains(string_split(CAST($signatures AS VARCHAR), ','), m.signature)
      )
      AND (
          CAST($services AS VARCHAR) = ''
          OR list_contains(string_split(CAST($services AS VARCHAR), ','), coalesce(m.service, e.resource_type, '(unknown)'))
      )
),
edges AS (
    SELECT
        *,
        row_number() OVER (ORDER BY "timestamp", insert_id) AS rn_first,
        row_number() OVER (ORDER BY "timestamp" DESC, insert_id DESC) AS rn_last,
        row_number() OVER (
            PARTITION BY (severity_number >= 500 OR coalesce(http_status, 0) >= 500)
            ORDER BY "timestamp", insert_id
        ) AS rn_error,
        severity_number >= 500 OR coalesce(http_status, 0) >= 500 AS is_error
    FROM scoped
)
SELECT
    kind.edge,
    e."timestamp",
    e.insert_id,
    e.log_name,
    e.service,
    e.revision,
    e.instance_id,
    e.signature,
    e.severity,
    e.message
FROM edges AS e
JOIN (VALUES ('first'), ('detection'), ('last')) AS kind (edge)
  ON (kind.edge = 'first' AND e.rn_first = 1)
  OR (kind.edge = 'detection' AND e.is_error AND e.rn_error = 1)
  OR (kind.edge = 'last' AND e.rn_last = 1)
ORDER BY e."timestamp", kind.edge
