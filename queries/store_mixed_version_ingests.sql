-- name: store_mixed_version_ingests
-- description: Ingest runs holding a signature match of a catalog version other than $version (e.g. a window classified by hand): they are classified again so no two versions mix.
-- params: $version VARCHAR
-- returns: ingest_id
-- cost: run only when some match is of another catalog version (forensics/pipeline.py
--   stale_runs counts them first: a scan of one dictionary-compressed column), that is once
--   after the catalog changed, until those runs are classified again: the m such matches
--   hash-joined with the entries on their identity, O(m + e) for the e entries the join's
--   time range reaches.
SELECT DISTINCT e.ingest_id
FROM signature_matches AS m
JOIN log_entries AS e
  ON e."timestamp" = m."timestamp"
 AND e.log_name = m.log_name
 AND e.insert_id = m.insert_id
WHERE m.catalog_version <> $version
ORDER BY e.ingest_id
