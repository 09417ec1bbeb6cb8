-- name: store_symptom_causes
-- description: Every symptom match (exit 3, 503, ...) in [$since, $until) (the look-back: forensics/incidents/lookback.py; causes from $since on too) with the root of the failure episode it follows. An episode is a run of causes on one instance: a burst (causes each within $burst_s of the one before: one crash's error, traceback chunks and exit), and later bursts that share a tracked issue with the burst before them within $window_s (a cascade: Cloud SQL socket failure, then the DB-init timeout); a cause of another issue starts a new one. It is named by its root: the first signature cause, else the first typed error, else the first error. Same instance first: the episode of the nearest cause at or before the symptom, else of the first cause up to $lookahead_s after it (basis instance-boot: a request that failed while the instance booted). Else the same revision (or, for service-level entries without one, the same service): the episode of the nearest cause in the $window_s before it, signatures first. Else none.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $symptoms VARCHAR[], $lookahead_s DOUBLE, $window_s DOUBLE, $burst_s DOUBLE, $cause_issues STRUCT(cause VARCHAR, issues VARCHAR[])[]
-- returns: timestamp, log_name, insert_id, signature, service, revision, instance_id, cause, cause_kind, basis, cause_timestamp, cause_log_name, cause_insert_id
-- cost: reads the look-back only, [$since, $until + $lookahead_s) (forensics/incidents/lookback.py: the window and a fixed number of days of baseline, never the whole store, never every entry): O(m + e) for its m signature matches and e stored errors (error_causes_in, forensics/window_rows.py). Then O(k log k) for its k symptoms and
--   candidate causes: one sort numbers everything on an instance (o), so bursts and episodes
--   are running sums over integer-keyed streams (partitioned by a number per instance, issue
--   sets as bits), roots one window per episode, and each symptom reads the nearest cause from
--   the same stream and, for the symptoms the instance left unattributed, from one sorted
--   stream per revision (carrying a cause's number, joined back to its root on that key); every
--   join is on keys (no range join pairs every symptom with every cause). 1M entries/day,
--   3-day look-back: 0.54 -> 0.42 CPU s (1 day: 0.30 -> 0.25), same rows.
--   tests/test_symptom_causes_equivalence.py holds it to the pairwise statement of the rule
--   (tests/reference/store_symptom_causes_pairwise.sql).
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
-- The tracked issues each cause signature is direct evidence for (none: an error no issue
-- claims), also as bits (bit i: the i-th of all those issues; NULL: none), so sets are unioned
-- by bit_or and tested for a shared issue by & (lists in windows and aggregates are slow).
cause_issue AS (
    SELECT u.cause, u.issues,
           CASE WHEN len(u.issues) > 0 THEN CAST(array_to_string(list_transform(
               (SELECT list_sort(list_distinct(flatten(list(x.issues))))
                FROM (SELECT unnest($cause_issues) AS x)),
               i -> CASE WHEN list_contains(u.issues, i) THEN '1' ELSE '0' END), '') AS BIT)
           END AS bits
    FROM (SELECT unnest($cause_issues) AS u)
),
on_instance_cause AS (
    SELECT c.*, coalesce(i.issues, CAST([] AS VARCHAR[])) AS issues, i.bits
    FROM cause AS c
    LEFT JOIN cause_issue AS i ON i.cause = c.cause AND c.cause_kind = 'signature'
    WHERE c.instance_id IS NOT NULL
),
-- Episodes, step 1: bursts. Everything on an instance, its causes and its symptoms, is
-- numbered (o) in one sort by instance, time, side (causes before symptoms at one instant),
-- insert_id and log_name: on an instance, o orders the causes by (time, insert_id, log_name) and
-- puts each symptom after the causes at or before it, so the windows below sort that number and
-- partition by a number per instance (ik), not by the strings.
instance_key AS (
    SELECT instance_id, row_number() OVER () AS ik
    FROM (SELECT DISTINCT instance_id FROM on_instance_cause)
),
instance_row AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY ik, "timestamp", side, insert_id, log_name) AS o, *
    FROM (
        SELECT k.ik, c."timestamp", 0 AS side, c.insert_id, c.log_name, c.kind_rank, c.bits,
               c.cause, c.cause_kind, c.service, c.revision
        FROM on_instance_cause AS c
        JOIN instance_key AS k USING (instance_id)
        UNION ALL
        SELECT k.ik, s."timestamp", 1 AS side, s.insert_id, s.log_name, NULL, NULL, NULL, NULL,
               NULL, NULL
        FROM symptom AS s
        JOIN instance_key AS k USING (instance_id)
    )
),
-- A cause more than $burst_s after the one before it on its instance
-- starts a burst; so does a cause of a tracked issue that shares no issue with the tracked cause
-- before it on the instance (a different known failure). Issues are bits (cause_issue).
burst_edge AS (
    SELECT o, ik, "timestamp", kind_rank, bits,
           CASE WHEN prev_ts IS NULL
                  OR "timestamp" - prev_ts > to_seconds($burst_s)
                  OR bit_count(bits & prev_bits) = 0
                THEN 1 ELSE 0 END AS starts
    FROM (
        SELECT o, ik, "timestamp", kind_rank, bits,
               lag("timestamp") OVER w AS prev_ts,
               last_value(bits IGNORE NULLS) OVER before AS prev_bits
        FROM instance_row
        WHERE side = 0
        WINDOW w AS (PARTITION BY ik ORDER BY o),
               before AS (PARTITION BY ik ORDER BY o
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    )
),
burst_cause AS (
    SELECT o, ik, "timestamp", kind_rank, bits,
           sum(starts) OVER (PARTITION BY ik ORDER BY o
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS burst
    FROM burst_edge
),
burst AS (
    SELECT ik, burst, min("timestamp") AS first_ts, max("timestamp") AS last_ts,
           bit_or(bits) AS bits
    FROM burst_cause
    GROUP BY ik, burst
),
-- Step 2: a burst of tracked issues continues the episode of the tracked burst before it on
-- the instance when they share an issue and lie within $window_s; a burst of errors no issue
-- claims is an episode of its own. Episodes are numbered per instance: tracked ones negative,
-- the others by their burst.
tracked_edge AS (
    SELECT ik, burst,
           CASE WHEN lag(last_ts) OVER w IS NULL
                  OR first_ts - lag(last_ts) OVER w > to_seconds($window_s)
                  OR bit_count(bits & lag(bits) OVER w) = 0
                THEN 1 ELSE 0 END AS starts
    FROM burst
    WHERE bits IS NOT NULL
    WINDOW w AS (PARTITION BY ik ORDER BY burst)
),
episode_of AS (
    SELECT ik, burst,
           -sum(starts) OVER (PARTITION BY ik ORDER BY burst
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS episode
    FROM tracked_edge
    UNION ALL
    SELECT ik, burst, burst AS episode
    FROM burst
    WHERE bits IS NULL
),
-- Step 3: an episode's root is its first signature cause, else its first typed error, else
-- its first error (first: in o's order). root: the root's o.
cause_root AS (
    SELECT c.o, arg_min(c.o, (c.kind_rank, c.o)) OVER (PARTITION BY c.ik, e.episode) AS root
    FROM burst_cause AS c
    JOIN episode_of AS e ON e.ik = c.ik AND e.burst = c.burst
),
-- Causes without an instance, numbered (negative: o numbers those with one); each is its own
-- root.
loose_cause AS MATERIALIZED (
    SELECT -row_number() OVER () AS rid, *
    FROM cause
    WHERE instance_id IS NULL
),
-- Every cause by its number (rid: o on an instance, else loose_cause's), and the root it
-- stands for: the sorted streams below carry a number, not the root's text.
any_cause AS (
    SELECT o AS rid, "timestamp", log_name, insert_id, service, revision, kind_rank, cause,
           cause_kind
    FROM instance_row
    WHERE side = 0
    UNION ALL
    SELECT rid, "timestamp", log_name, insert_id, service, revision, kind_rank, cause,
           cause_kind
    FROM loose_cause
),
root_of AS (
    SELECT o AS rid, root FROM cause_root
    UNION ALL
    SELECT rid, rid AS root FROM loose_cause
),
-- Same instance: the last cause at or before a symptom on its instance (in o's order) is the
-- nearest one before it, else the first one after it (boot look-ahead).
instance_near AS (
    SELECT "timestamp", log_name, insert_id,
           last_value(near IGNORE NULLS) OVER upto AS before,
           first_value(near IGNORE NULLS) OVER from_here AS after
    FROM (
        SELECT ik, o, side, "timestamp", log_name, insert_id,
               CASE WHEN side = 0 THEN o END AS near
        FROM instance_row
    )
    WINDOW upto AS (PARTITION BY ik ORDER BY o
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           from_here AS (PARTITION BY ik ORDER BY o
                         ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
    QUALIFY side = 1
),
on_instance AS (
    SELECT n."timestamp", n.log_name, n.insert_id, r.cause, r.cause_kind, n.basis,
           r."timestamp" AS cause_timestamp, r.log_name AS cause_log_name,
           r.insert_id AS cause_insert_id
    FROM (
        SELECT "timestamp", log_name, insert_id,
               CASE WHEN before IS NOT NULL THEN 'instance' ELSE 'instance-boot' END AS basis,
               coalesce(before, after) AS near
        FROM instance_near
    ) AS n
    JOIN instance_row AS c ON c.o = n.near
    JOIN cause_root AS k ON k.o = n.near
    JOIN instance_row AS r ON r.o = k.root
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
    FROM any_cause AS c
    JOIN (SELECT DISTINCT part FROM scope) AS p
      ON p.part = 'revision:' || c.revision
    UNION ALL  -- two hash joins: an OR in one join condition is a nested loop (causes × parts)
    SELECT p.part, c."timestamp", 0 AS side, c.log_name, c.insert_id,
           CASE WHEN c.kind_rank = 0 THEN c.rid END,
           CASE WHEN c.kind_rank > 0 THEN c.rid END
    FROM any_cause AS c
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
    SELECT n."timestamp", n.log_name, n.insert_id, r.cause, r.cause_kind, n.basis,
           r."timestamp" AS cause_timestamp, r.log_name AS cause_log_name,
           r.insert_id AS cause_insert_id
    FROM (
        SELECT n."timestamp", n.log_name, n.insert_id,
               CASE WHEN n.part LIKE 'service:%' THEN 'service' ELSE 'revision' END AS basis,
               CASE WHEN s."timestamp" >= n."timestamp" - to_seconds($window_s)
                        THEN n.by_signature
                    WHEN e."timestamp" >= n."timestamp" - to_seconds($window_s)
                        THEN n.by_error
               END AS near
        FROM nearest AS n
        LEFT JOIN any_cause AS s ON s.rid = n.by_signature
        LEFT JOIN any_cause AS e ON e.rid = n.by_error
        WHERE n.side = 1
    ) AS n
    JOIN root_of AS k ON k.rid = n.near
    JOIN any_cause AS r ON r.rid = k.root
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
