-- name: store_symptom_causes
-- description: Every symptom match (exit 3, 503, ...) before $until with the cause it follows. Same instance first: the earliest cause signature before it, else the first error logged before it (typed exceptions first); a cause logged up to $lookahead_s after it counts (basis instance-boot) for a request that failed while the instance booted. Else the same revision (or, for service-level entries without one, the same service): the nearest cause in the $window_s before it, signatures first. Else none.
-- params: $until TIMESTAMPTZ, $symptoms VARCHAR[], $lookahead_s DOUBLE, $window_s DOUBLE
-- returns: timestamp, log_name, insert_id, signature, service, revision, instance_id, cause, cause_kind, basis, cause_timestamp, cause_log_name, cause_insert_id
WITH symptom AS (
    SELECT "timestamp", log_name, insert_id, signature, service, revision, instance_id
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" < $until
      AND list_contains($symptoms, signature)
),
signature_cause AS (
    SELECT "timestamp", log_name, insert_id, service, revision, instance_id,
           signature AS cause,
           'signature' AS cause_kind,
           0 AS kind_rank
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" < CAST($until AS TIMESTAMPTZ) + to_seconds($lookahead_s)
      AND NOT list_contains($symptoms, signature)
),
-- Errors no signature knows (a ModuleNotFoundError, ...) on the symptoms' instances and revisions.
error_cause AS (
    SELECT e."timestamp", e.log_name, e.insert_id, e.service, e.revision, e.instance_id,
           'error:' || coalesce(
               nullif(regexp_extract(e.message, '\b([A-Z][A-Za-z0-9_]*(?:Error|Exception))\b', 1), ''),
               'unclassified') AS cause,
           'error' AS cause_kind,
           CASE WHEN regexp_matches(e.message, '\b[A-Z][A-Za-z0-9_]*(?:Error|Exception)\b')
                THEN 1 ELSE 2 END AS kind_rank
    FROM entries AS e
    WHERE e."timestamp" < CAST($until AS TIMESTAMPTZ) + to_seconds($lookahead_s)
      AND (e.instance_id IN (SELECT instance_id FROM symptom)
           OR e.revision IN (SELECT revision FROM symptom)
           OR e.service IN (SELECT service FROM symptom WHERE coalesce(revision, '') = ''))
      AND (e.severity_number >= 500
           OR ((e.message LIKE '%Error: %' OR e.message LIKE '%Exception: %')
               AND regexp_matches(e.message, '\b[A-Z][A-Za-z0-9_]*(?:Error|Exception): ')))
      AND coalesce(e.log_id, '') <> 'run.googleapis.com/requests'
      AND coalesce(e.log_id, '') NOT LIKE 'cloudaudit.googleapis.com/%'
      AND NOT EXISTS (
          SELECT 1
          FROM signature_matches AS m
          WHERE m."timestamp" = e."timestamp"
            AND m.log_name = e.log_name
            AND m.insert_id = e.insert_id
      )
),
cause AS (
    SELECT * FROM signature_cause
    UNION ALL
    SELECT * FROM error_cause
),
on_instance AS (
    SELECT s."timestamp", s.log_name, s.insert_id,
           c.cause, c.cause_kind,
           CASE WHEN c."timestamp" <= s."timestamp" THEN 'instance' ELSE 'instance-boot' END AS basis,
           c."timestamp" AS cause_timestamp, c.log_name AS cause_log_name, c.insert_id AS cause_insert_id
    FROM symptom AS s
    JOIN cause AS c
      ON c.instance_id = s.instance_id
     AND c."timestamp" <= s."timestamp" + to_seconds($lookahead_s)
    QUALIFY row_number() OVER (
        PARTITION BY s."timestamp", s.log_name, s.insert_id
        ORDER BY c."timestamp" > s."timestamp", c.kind_rank, c."timestamp", c.insert_id
    ) = 1
),
on_revision AS (
    SELECT s."timestamp", s.log_name, s.insert_id,
           c.cause, c.cause_kind,
           CASE WHEN coalesce(s.revision, '') = '' THEN 'service' ELSE 'revision' END AS basis,
           c."timestamp" AS cause_timestamp, c.log_name AS cause_log_name, c.insert_id AS cause_insert_id
    FROM symptom AS s
    JOIN cause AS c
      ON (c.revision = s.revision
          OR (coalesce(s.revision, '') = '' AND c.service = s.service))
     AND c."timestamp" <= s."timestamp"
     AND c."timestamp" >= s."timestamp" - to_seconds($window_s)
    QUALIFY row_number() OVER (
        PARTITION BY s."timestamp", s.log_name, s.insert_id
        ORDER BY c.kind_rank > 0, c."timestamp" DESC, c.insert_id
    ) = 1
)
SELECT s."timestamp", s.log_name, s.insert_id, s.signature, s.service, s.revision, s.instance_id,
       coalesce(i.cause, r.cause) AS cause,
       coalesce(i.cause_kind, r.cause_kind) AS cause_kind,
       coalesce(i.basis, r.basis, 'none') AS basis,
       coalesce(i.cause_timestamp, r.cause_timestamp) AS cause_timestamp,
       coalesce(i.cause_log_name, r.cause_log_name) AS cause_log_name,
       coalesce(i.cause_insert_id, r.cause_insert_id) AS cause_insert_id
FROM symptom AS s
LEFT JOIN on_instance AS i
  ON i."timestamp" = s."timestamp" AND i.log_name = s.log_name AND i.insert_id = s.insert_id
LEFT JOIN on_revision AS r
  ON r."timestamp" = s."timestamp" AND r.log_name = s.log_name AND r.insert_id = s.insert_id
ORDER BY s."timestamp", s.insert_id
