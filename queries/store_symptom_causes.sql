-- name: store_symptom_causes
-- description: Every symptom match (exit 3, 503, ...) in [$since, $until) (the look-back: forensics/incidents/lookback.py; causes from $since on too) with the root of the failure episode it follows. An episode is a run of causes on one instance: a burst (causes each within $burst_s of the one before: one crash's error, traceback chunks and exit), and later bursts that share a tracked issue with the burst before them within $window_s (a cascade: Cloud SQL socket failure, then the DB-init timeout); a cause of another issue starts a new one. It is named by its root: the first signature cause, else the first typed error, else the first error. Same instance first: the episode of the nearest cause at or before the symptom, else of the first cause up to $lookahead_s after it (basis instance-boot: a request that failed while the instance booted). Else the same revision (or, for service-level entries without one, the same service): the episode of the nearest cause in the $window_s before it, signatures first. Else none.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $symptoms VARCHAR[], $lookahead_s DOUBLE, $window_s DOUBLE, $burst_s DOUBLE, $cause_issues STRUCT(cause VARCHAR, issues VARCHAR[])[]
-- returns: timestamp, log_name, insert_id, signature, service, revision, instance_id, cause, cause_kind, basis, cause_timestamp, cause_log_name, cause_insert_id
-- cost: O(m + e) reads of signature_matches and of error_causes_in (the errors stored per ingest run, forensics/window_rows.py) in the look-back (never the whole store, never every entry), then O(k log k) for the k symptoms and
--   candidate causes: bursts and episodes are running sums over one sorted stream per
--   instance, roots one GROUP BY per episode, and each symptom reads the nearest cause from
--   one sorted stream per instance and, for the symptoms the instance left unattributed, per
--   revision (carrying a cause's number, joined back
--   to its root on that key); every join is on keys (no range join
--   pairs every symptom with every cause). tests/test_symptom_causes_equivalence.py holds it
--   to the pairwise statement of the rule (tests/reference/store_symptom_causes_pairwise.sql).
WITH symptom AS (
    SELECT "timestamp", log_name, insert_id, signature, service, revision, instance_id
    FROM signature_matches
    WHERE is_primary
      AND "timestamp" >= $since
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
      AND "timestamp" >= $since
      AND "timestamp" < CAST($until AS TIMESTAMPTZ) + to_seconds($lookahead_s)
      AND NOT list_contains($symptoms, signature)
),
-- Errors no signature knows (a ModuleNotFoundError, ...) on the symptoms' instances and revisions.
error_cause AS (  -- stored per ingest run (forensics/window_rows.py)
    SELECT e."timestamp", e.log_name, e.insert_id, e.service, e.revision, e.instance_id,
           e.cause, 'error' AS cause_kind, e.kind_rank
    FROM error_causes_in($since, CAST($until AS TIMESTAMPTZ) + to_seconds($lookahead_s)) AS e
    ANTI JOIN (  -- errors a signature matched are signature causes (the range's matches)
        SELECT "timestamp", log_name, insert_id
        FROM signature_matches
        WHERE "timestamp" >= $since
          AND "timestamp" < CAST($until AS TIMESTAMPTZ) + to_seconds($lookahead_s)
    ) AS m
      ON m."timestamp" = e."timestamp" AND m.log_name = e.log_name AND m.insert_id = e.insert_id
    WHERE (e.instance_id IN (SELECT instance_id FROM symptom)
           OR e.revision IN (SELECT revision FROM symptom)
           OR e.service IN (SELECT service FROM symptom WHERE coalesce(revision, '') = ''))
),
cause AS (
    SELECT * FROM signature_cause
    UNION ALL
    SELECT * FROM error_cause
),
-- The tracked issues each cause signature is direct evidence for (none: an error no issue claims).
cause_issue AS (
    SELECT u.cause, u.issues FROM (SELECT unnest($cause_issues) AS u)
),
on_instance_cause AS (
    SELECT c.*, coalesce(i.issues, CAST([] AS VARCHAR[])) AS issues
    FROM cause AS c
    LEFT JOIN cause_issue AS i ON i.cause = c.cause AND c.cause_kind = 'signature'
    WHERE c.instance_id IS NOT NULL
),
-- Episodes, step 1: bursts. A cause more than $burst_s after the one before it on its instance
-- starts a burst; so does a cause of a tracked issue that shares no issue with the tracked cause
-- before it on the instance (a different known failure).
burst_edge AS (
    SELECT c.* EXCLUDE (prev_ts, prev_tracked),
           CASE WHEN c.prev_ts IS NULL
                  OR c."timestamp" - c.prev_ts > to_seconds($burst_s)
                  OR (len(c.issues) > 0 AND NOT list_has_any(c.issues, coalesce(p.issues, c.issues)))
                THEN 1 ELSE 0 END AS starts
    FROM (
        -- the tracked cause before, by name (its issues joined back: a window over lists is slow)
        SELECT *,
               lag("timestamp") OVER w AS prev_ts,
               last_value(CASE WHEN len(issues) > 0 THEN cause END IGNORE NULLS) OVER before
                   AS prev_tracked
        FROM on_instance_cause
        WINDOW w AS (PARTITION BY instance_id ORDER BY "timestamp", insert_id, log_name),
               before AS (PARTITION BY instance_id ORDER BY "timestamp", insert_id, log_name
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ) AS c
    LEFT JOIN cause_issue AS p ON p.cause = c.prev_tracked
),
burst_cause AS (
    SELECT *,
           sum(starts) OVER (PARTITION BY instance_id ORDER BY "timestamp", insert_id, log_name
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS burst
    FROM burst_edge
),
burst AS (
    SELECT instance_id, burst, min("timestamp") AS first_ts, max("timestamp") AS last_ts,
           list_distinct(flatten(list(issues))) AS issues
    FROM burst_cause
    GROUP BY instance_id, burst
),
-- Step 2: a burst of tracked issues continues the episode of the tracked burst before it on
-- the instance when they share an issue and lie within $window_s; a burst of errors no issue
-- claims is an episode of its own.
tracked_edge AS (
    SELECT instance_id, burst,
           CASE WHEN lag(last_ts) OVER w IS NULL
                  OR first_ts - lag(last_ts) OVER w > to_seconds($window_s)
                  OR NOT list_has_any(issues, lag(issues) OVER w)
                THEN 1 ELSE 0 END AS starts
    FROM burst
    WHERE len(issues) > 0
    WINDOW w AS (PARTITION BY instance_id ORDER BY burst)
),
episode_of AS (
    SELECT instance_id, burst,
           'tracked-' || sum(starts) OVER (PARTITION BY instance_id ORDER BY burst
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS episode
    FROM tracked_edge
    UNION ALL
    SELECT instance_id, burst, 'burst-' || burst AS episode
    FROM burst
    WHERE len(issues) = 0
),
episode_cause AS (
    SELECT c.*, e.episode
    FROM burst_cause AS c
    JOIN episode_of AS e ON e.instance_id = c.instance_id AND e.burst = c.burst
),
-- Step 3: an episode's root is its first signature cause, else its first typed error, else
-- its first error.
episode_root AS (
    SELECT instance_id, episode,
           arg_min({'ts': "timestamp", 'log_name': log_name, 'insert_id': insert_id,
                    'cause': cause, 'cause_kind': cause_kind},
                   (kind_rank, "timestamp", insert_id, log_name)) AS root
    FROM episode_cause
    GROUP BY instance_id, episode
),
-- Every cause with the root it stands for: its episode's on an instance, itself without one;
-- numbered (rid), so the sorted streams below carry a number, not the root's text.
rooted AS MATERIALIZED (
    SELECT row_number() OVER () AS rid, *
    FROM (
        SELECT c."timestamp", c.log_name, c.insert_id, c.service, c.revision, c.instance_id,
               c.kind_rank, r.root
        FROM episode_cause AS c
        JOIN episode_root AS r ON r.instance_id = c.instance_id AND r.episode = c.episode
        UNION ALL
        SELECT "timestamp", log_name, insert_id, service, revision, instance_id, kind_rank,
               {'ts': "timestamp", 'log_name': log_name, 'insert_id': insert_id,
                'cause': cause, 'cause_kind': cause_kind} AS root
        FROM cause
        WHERE instance_id IS NULL
    )
),
-- Same instance. Symptoms and causes go into one stream per instance, sorted by time with
-- causes before symptoms at the same instant and, at one instant, causes in
-- (insert_id, log_name) order: the last cause so far is the nearest one before the symptom,
-- else the first one after it (boot look-ahead).
instance_stream AS (
    SELECT instance_id, "timestamp", 1 AS side, insert_id, log_name, CAST(NULL AS BIGINT) AS near
    FROM symptom
    WHERE instance_id IS NOT NULL
    UNION ALL
    SELECT instance_id, "timestamp", 0 AS side, insert_id, log_name, rid AS near
    FROM rooted
    WHERE instance_id IS NOT NULL
      AND instance_id IN (SELECT instance_id FROM symptom)
),
instance_near AS (
    SELECT "timestamp", log_name, insert_id,
           last_value(near IGNORE NULLS) OVER upto AS before,
           first_value(near IGNORE NULLS) OVER from_here AS after
    FROM instance_stream
    WINDOW upto AS (PARTITION BY instance_id ORDER BY "timestamp", side, insert_id, log_name
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           from_here AS (PARTITION BY instance_id ORDER BY "timestamp", side, insert_id, log_name
                         ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
    QUALIFY side = 1
),
on_instance AS (
    SELECT n."timestamp", n.log_name, n.insert_id, c.root.cause AS cause,
           c.root.cause_kind AS cause_kind, n.basis, c.root.ts AS cause_timestamp,
           c.root.log_name AS cause_log_name, c.root.insert_id AS cause_insert_id
    FROM (
        SELECT "timestamp", log_name, insert_id,
               CASE WHEN before IS NOT NULL THEN 'instance' ELSE 'instance-boot' END AS basis,
               coalesce(before, after) AS rid
        FROM instance_near
    ) AS n
    JOIN rooted AS c ON c.rid = n.rid
    WHERE n.basis = 'instance' OR c."timestamp" <= n."timestamp" + to_seconds($lookahead_s)
),
-- Same revision (a symptom without one: same service). The rule: the nearest cause in the
-- $window_s before the symptom, signatures first, stands for its episode's root. Symptoms and
-- causes go into one stream per revision (or service), sorted by time with causes before
-- symptoms at the same instant; for each symptom the last signature cause and the last error
-- cause so far are the nearest ones (at one instant the smallest insert_id counts as nearest,
-- so it sorts last). Only the symptoms the same instance left unattributed are streamed (an
-- instance's answer comes first), and only their revisions' and services' causes.
unattributed AS (
    SELECT s.*
    FROM symptom AS s
    ANTI JOIN on_instance AS i
      ON i."timestamp" = s."timestamp" AND i.log_name = s.log_name AND i.insert_id = s.insert_id
),
scope AS (
    SELECT 'revision:' || revision AS part, *
    FROM unattributed
    WHERE coalesce(revision, '') <> ''
    UNION ALL
    SELECT 'service:' || service AS part, *
    FROM unattributed
    WHERE coalesce(revision, '') = '' AND service IS NOT NULL
),
stream AS (
    SELECT part, "timestamp", 1 AS side, log_name, insert_id,
           CAST(NULL AS BIGINT) AS signature_cause, CAST(NULL AS BIGINT) AS error_cause
    FROM scope
    UNION ALL
    SELECT p.part, c."timestamp", 0 AS side, c.log_name, c.insert_id,
           CASE WHEN c.kind_rank = 0 THEN c.rid END,
           CASE WHEN c.kind_rank > 0 THEN c.rid END
    FROM rooted AS c
    JOIN (SELECT DISTINCT part FROM scope) AS p
      ON p.part = 'revision:' || c.revision
    UNION ALL  -- two hash joins: an OR in one join condition is a nested loop (causes × parts)
    SELECT p.part, c."timestamp", 0 AS side, c.log_name, c.insert_id,
           CASE WHEN c.kind_rank = 0 THEN c.rid END,
           CASE WHEN c.kind_rank > 0 THEN c.rid END
    FROM rooted AS c
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
    SELECT "timestamp", log_name, insert_id, root.cause AS cause,
           root.cause_kind AS cause_kind, basis, root.ts AS cause_timestamp,
           root.log_name AS cause_log_name, root.insert_id AS cause_insert_id
    FROM (
        SELECT n."timestamp", n.log_name, n.insert_id,
               CASE WHEN n.part LIKE 'service:%' THEN 'service' ELSE 'revision' END AS basis,
               CASE WHEN s."timestamp" >= n."timestamp" - to_seconds($window_s) THEN s.root
                    WHEN e."timestamp" >= n."timestamp" - to_seconds($window_s) THEN e.root
               END AS root
        FROM nearest AS n
        LEFT JOIN rooted AS s ON s.rid = n.by_signature
        LEFT JOIN rooted AS e ON e.rid = n.by_error
        WHERE n.side = 1
    )
    WHERE root IS NOT NULL
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
