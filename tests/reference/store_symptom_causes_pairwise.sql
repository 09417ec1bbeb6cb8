-- The rule of store_symptom_causes stated plainly, pair by pair: every "the cause before",
-- "the burst number" and "the nearest cause" is a join of rows with rows (quadratic), where the
-- shipped query uses running sums and sorted streams. It continues the shipped query's shared
-- CTEs (symptom, signature_cause, error_cause, cause, cause_issue, on_instance_cause) and its
-- final SELECT;
-- tests/test_symptom_causes_equivalence.py splices them and holds the shipped query to this one.
-- b comes after a on their instance: by time, then insert_id, then log_name.
ref_pair AS (
    SELECT b.instance_id, b."timestamp" AS b_ts, b.insert_id AS b_id, b.log_name AS b_log,
           a."timestamp" AS a_ts, a.insert_id AS a_id, a.log_name AS a_log, a.issues AS a_issues
    FROM on_instance_cause AS b
    JOIN on_instance_cause AS a
      ON a.instance_id = b.instance_id
     AND (a."timestamp" < b."timestamp"
          OR (a."timestamp" = b."timestamp"
              AND (a.insert_id < b.insert_id
                   OR (a.insert_id = b.insert_id AND a.log_name < b.log_name))))
),
-- A cause starts a burst when the cause before it is more than $burst_s earlier (or there is
-- none), or when it is evidence for tracked issues and the last tracked cause before it shares
-- none of them.
ref_start AS (
    SELECT b.instance_id, b."timestamp", b.insert_id, b.log_name,
           (prev_ts IS NULL OR b."timestamp" - prev_ts > to_seconds($burst_s)
            OR (len(b.issues) > 0 AND tracked_issues IS NOT NULL
                AND NOT list_has_any(b.issues, tracked_issues))) AS starts
    FROM on_instance_cause AS b
    LEFT JOIN (
        SELECT instance_id, b_ts, b_id, b_log, max(a_ts) AS prev_ts
        FROM ref_pair
        GROUP BY ALL
    ) AS p ON p.instance_id = b.instance_id AND p.b_ts = b."timestamp"
          AND p.b_id = b.insert_id AND p.b_log = b.log_name
    LEFT JOIN (
        SELECT instance_id, b_ts, b_id, b_log, a_issues AS tracked_issues
        FROM ref_pair
        WHERE len(a_issues) > 0
        QUALIFY row_number() OVER (PARTITION BY instance_id, b_ts, b_id, b_log
                                   ORDER BY a_ts DESC, a_id DESC, a_log DESC) = 1
    ) AS t ON t.instance_id = b.instance_id AND t.b_ts = b."timestamp"
          AND t.b_id = b.insert_id AND t.b_log = b.log_name
),
-- A cause's burst is the number of burst starts at or before it.
ref_burst_cause AS (
    SELECT b.*, (
        SELECT count(*)
        FROM ref_start AS s
        WHERE s.starts AND s.instance_id = b.instance_id
          AND (s."timestamp" < b."timestamp"
               OR (s."timestamp" = b."timestamp"
                   AND (s.insert_id < b.insert_id
                        OR (s.insert_id = b.insert_id AND s.log_name <= b.log_name))))
    ) AS burst
    FROM on_instance_cause AS b
),
ref_burst AS (
    SELECT instance_id, burst, min("timestamp") AS first_ts, max("timestamp") AS last_ts,
           list_distinct(flatten(list(issues))) AS issues
    FROM ref_burst_cause
    GROUP BY instance_id, burst
),
-- A tracked burst starts an episode unless the tracked burst before it on the instance shares
-- an issue with it and ended at most $window_s before it began.
ref_tracked_start AS (
    SELECT b.instance_id, b.burst,
           NOT coalesce((
               SELECT list_has_any(b.issues, a.issues)
                      AND b.first_ts - a.last_ts <= to_seconds($window_s)
               FROM ref_burst AS a
               WHERE a.instance_id = b.instance_id AND a.burst < b.burst AND len(a.issues) > 0
               ORDER BY a.burst DESC
               LIMIT 1
           ), FALSE) AS starts
    FROM ref_burst AS b
    WHERE len(b.issues) > 0
),
ref_episode AS (
    SELECT b.instance_id, b.burst,
           'tracked-' || (SELECT count(*) FROM ref_tracked_start AS s
                          WHERE s.starts AND s.instance_id = b.instance_id
                            AND s.burst <= b.burst) AS episode
    FROM ref_tracked_start AS b
    UNION ALL
    SELECT instance_id, burst, 'burst-' || burst
    FROM ref_burst
    WHERE len(issues) = 0
),
ref_episode_cause AS (
    SELECT c.*, e.episode
    FROM ref_burst_cause AS c
    JOIN ref_episode AS e ON e.instance_id = c.instance_id AND e.burst = c.burst
),
-- The root: the episode's first signature cause, else first typed error, else first error.
ref_root AS (
    SELECT instance_id, episode, "timestamp" AS root_ts, log_name AS root_log_name,
           insert_id AS root_insert_id, cause AS root_cause, cause_kind AS root_kind
    FROM ref_episode_cause
    QUALIFY row_number() OVER (PARTITION BY instance_id, episode
                               ORDER BY kind_rank, "timestamp", insert_id, log_name) = 1
),
ref_rooted AS (
    SELECT c."timestamp", c.log_name, c.insert_id, c.service, c.revision, c.instance_id,
           c.kind_rank, r.root_ts, r.root_log_name, r.root_insert_id, r.root_cause, r.root_kind
    FROM ref_episode_cause AS c
    JOIN ref_root AS r ON r.instance_id = c.instance_id AND r.episode = c.episode
    UNION ALL
    SELECT "timestamp", log_name, insert_id, service, revision, instance_id, kind_rank,
           "timestamp", log_name, insert_id, cause, cause_kind
    FROM cause
    WHERE instance_id IS NULL
),
-- Same instance: the nearest cause at or before the symptom, else the first one up to
-- $lookahead_s after it; the symptom takes that cause's root.
on_instance AS (
    SELECT s."timestamp", s.log_name, s.insert_id,
           c.root_cause AS cause, c.root_kind AS cause_kind,
           CASE WHEN c."timestamp" <= s."timestamp" THEN 'instance' ELSE 'instance-boot' END
               AS basis,
           c.root_ts AS cause_timestamp, c.root_log_name AS cause_log_name,
           c.root_insert_id AS cause_insert_id
    FROM symptom AS s
    JOIN ref_rooted AS c
      ON c.instance_id = s.instance_id
     AND c."timestamp" <= s."timestamp" + to_seconds($lookahead_s)
    QUALIFY row_number() OVER (
        PARTITION BY s."timestamp", s.log_name, s.insert_id
        ORDER BY c."timestamp" > s."timestamp",
                 CASE WHEN c."timestamp" <= s."timestamp" THEN c."timestamp" END DESC,
                 CASE WHEN c."timestamp" <= s."timestamp" THEN c.insert_id END DESC,
                 CASE WHEN c."timestamp" <= s."timestamp" THEN c.log_name END DESC,
                 c."timestamp", c.insert_id, c.log_name
    ) = 1
),
-- Same revision (no revision: same service): the nearest cause in the $window_s before the
-- symptom, signatures first; the symptom takes that cause's root.
on_revision AS (
    SELECT s."timestamp", s.log_name, s.insert_id,
           c.root_cause AS cause, c.root_kind AS cause_kind,
           CASE WHEN coalesce(s.revision, '') = '' THEN 'service' ELSE 'revision' END AS basis,
           c.root_ts AS cause_timestamp, c.root_log_name AS cause_log_name,
           c.root_insert_id AS cause_insert_id
    FROM symptom AS s
    JOIN ref_rooted AS c
      ON (c.revision = s.revision
          OR (coalesce(s.revision, '') = '' AND c.service = s.service))
     AND c."timestamp" <= s."timestamp"
     AND c."timestamp" >= s."timestamp" - to_seconds($window_s)
    QUALIFY row_number() OVER (
        PARTITION BY s."timestamp", s.log_name, s.insert_id
        ORDER BY c.kind_rank > 0, c."timestamp" DESC, c.insert_id, c.log_name
    ) = 1
)
