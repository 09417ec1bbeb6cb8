-- name: store_symptom_causes
-- description: Every symptom match (exit 3, 503, ...) before $until with the cause it follows. Same instance first: the earliest cause signature before it, else the first error logged before it (typed exceptions first); a cause logged up to $lookahead_s after it counts (basis instance-boot) for a request that failed while the instance booted. Else the same revision (or, for service-level entries without one, the same service): the nearest cause in the $window_s before it, signatures first. Else none.
-- params: $until TIMESTAMPTZ, $symptoms VARCHAR[], $lookahead_s DOUBLE, $window_s DOUBLE
-- returns: timestamp, log_name, insert_id, signature, service, revision, instance_id, cause, cause_kind, basis, cause_timestamp, cause_log_name, cause_insert_id
-- cost: O(n) scans of signature_matches and entries, then O(k log k) for the k symptoms and
--   candidate causes (a GROUP BY per instance, one sorted stream per revision); no join pairs
--   every symptom with every cause. tests/test_symptom_causes_equivalence.py holds it to the
--   pairwise statement of the rule (tests/reference/store_symptom_causes_pairwise.sql).
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
-- Same instance. The rule: among the instance's causes at or before the symptom, the lowest
-- kind rank, then the earliest; when there is none, the same among those up to $lookahead_s after
-- it. A rank's earliest cause on an instance is the same whatever the symptom, so one GROUP BY
-- (one row per instance and rank) replaces a join of every symptom with every earlier cause.
first_on_instance AS (
    SELECT instance_id, kind_rank,
           arg_min({'ts': "timestamp", 'log_name': log_name, 'insert_id': insert_id,
                    'cause': cause, 'cause_kind': cause_kind},
                   ("timestamp", insert_id, log_name)) AS c
    FROM cause
    WHERE instance_id IS NOT NULL
    GROUP BY instance_id, kind_rank
),
on_instance AS (
    SELECT s."timestamp", s.log_name, s.insert_id,
           f.c.cause AS cause, f.c.cause_kind AS cause_kind,
           CASE WHEN f.c.ts <= s."timestamp" THEN 'instance' ELSE 'instance-boot' END AS basis,
           f.c.ts AS cause_timestamp, f.c.log_name AS cause_log_name,
           f.c.insert_id AS cause_insert_id
    FROM symptom AS s
    JOIN first_on_instance AS f
      ON f.instance_id = s.instance_id
     AND f.c.ts <= s."timestamp" + to_seconds($lookahead_s)
    QUALIFY row_number() OVER (
        PARTITION BY s."timestamp", s.log_name, s.insert_id
        ORDER BY f.c.ts > s."timestamp", f.kind_rank
    ) = 1
),
-- Same revision (a symptom without one: same service). The rule: the nearest cause in the
-- $window_s before the symptom, signatures first. Symptoms and causes go into one stream per
-- revision (or service), sorted by time with causes before symptoms at the same instant; for
-- each symptom the last signature cause and the last error cause so far are the nearest ones
-- (at one instant the smallest insert_id counts as nearest, so it sorts last).
scope AS (
    SELECT 'revision:' || revision AS part, *
    FROM symptom
    WHERE coalesce(revision, '') <> ''
    UNION ALL
    SELECT 'service:' || service AS part, *
    FROM symptom
    WHERE coalesce(revision, '') = '' AND service IS NOT NULL
),
stream AS (
    SELECT part, "timestamp", 1 AS side, log_name, insert_id,
           NULL AS signature_cause, NULL AS error_cause
    FROM scope
    UNION ALL
    SELECT p.part, c."timestamp", 0 AS side, c.log_name, c.insert_id,
           CASE WHEN c.kind_rank = 0 THEN {'ts': c."timestamp", 'log_name': c.log_name,
               'insert_id': c.insert_id, 'cause': c.cause, 'cause_kind': c.cause_kind} END,
           CASE WHEN c.kind_rank > 0 THEN {'ts': c."timestamp", 'log_name': c.log_name,
               'insert_id': c.insert_id, 'cause': c.cause, 'cause_kind': c.cause_kind} END
    FROM cause AS c
    JOIN (SELECT DISTINCT part FROM scope) AS p
      ON p.part = 'revision:' || c.revision
    UNION ALL  -- two hash joins: an OR in one join condition is a nested loop (causes × parts)
    SELECT p.part, c."timestamp", 0 AS side, c.log_name, c.insert_id,
           CASE WHEN c.kind_rank = 0 THEN {'ts': c."timestamp", 'log_name': c.log_name,
               'insert_id': c.insert_id, 'cause': c.cause, 'cause_kind': c.cause_kind} END,
           CASE WHEN c.kind_rank > 0 THEN {'ts': c."timestamp", 'log_name': c.log_name,
               'insert_id': c.insert_id, 'cause': c.cause, 'cause_kind': c.cause_kind} END
    FROM cause AS c
    JOIN (SELECT DISTINCT part FROM scope) AS p
      ON p.part = 'service:' || c.service
),
nearest AS (
    SELECT "timestamp", log_name, insert_id,
           last_value(signature_cause IGNORE NULLS) OVER w AS by_signature,
           last_value(error_cause IGNORE NULLS) OVER w AS by_error,
           side,
           part
    FROM stream
    WINDOW w AS (
        PARTITION BY part
        ORDER BY "timestamp", side, insert_id DESC, log_name DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
on_revision AS (
    SELECT "timestamp", log_name, insert_id, c.cause AS cause, c.cause_kind AS cause_kind, basis,
           c.ts AS cause_timestamp, c.log_name AS cause_log_name, c.insert_id AS cause_insert_id
    FROM (
        SELECT "timestamp", log_name, insert_id,
               CASE WHEN part LIKE 'service:%' THEN 'service' ELSE 'revision' END AS basis,
               CASE WHEN by_signature.ts >= "timestamp" - to_seconds($window_s) THEN by_signature
                    WHEN by_error.ts >= "timestamp" - to_seconds($window_s) THEN by_error
               END AS c
        FROM nearest
        WHERE side = 1
    )
    WHERE c IS NOT NULL
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
