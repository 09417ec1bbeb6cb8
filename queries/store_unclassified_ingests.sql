-- name: store_unclassified_ingests
-- description: Ingest runs that added entries but carry no mark (classified_runs) for the catalog version $version: never classified, or classified by another catalog (forensics.pipeline classifies exactly these).
-- params: $version VARCHAR
-- returns: ingest_id, accepted
-- cost: O(r + c) for the r ingest runs and c classification marks (a hash anti-join); no
--   entry is read.
SELECT r.ingest_id, r.accepted
FROM ingest_runs AS r
WHERE r.accepted > 0
  AND NOT EXISTS (
      SELECT 1 FROM classified_runs AS c
      WHERE c.ingest_id = r.ingest_id AND c.catalog_version = $version
  )
ORDER BY r.ingest_id
