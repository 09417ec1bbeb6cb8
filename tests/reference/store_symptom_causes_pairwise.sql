-- The former pairing of store_symptom_causes, kept as the plain statement of its rule: it joins
-- every symptom with every candidate cause (quadratic). It continues the shipped query's shared
-- CTEs (symptom, signature_cause, error_cause, cause) and its final SELECT;
-- tests/test_symptom_causes_equivalence.py splices them and holds the shipped pairing to this one.
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
