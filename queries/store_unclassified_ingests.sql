-- name: store_unclassified_ingests
-- description: Ingest runs that added entries but have no signature match from the catalog version $version: never classified, or classified by an older catalog (a clean run with no match at all is listed too; classifying it again is idempotent).
-- params: $version VARCHAR
-- returns: ingest_id, accepted
SELECT r.ingest_id, r.accepted
FROM ingest_runs AS r
WHERE r.accepted > 0
  AND r.ingest_id NOT IN (
      SELECT DISTINCT e.ingest_id
      FROM signature_matches AS m
      JOIN log_entries AS e
        ON e."timestamp" = m."timestamp"
       AND e.log_name = m.log_name
       AND e.insert_id = m.insert_id
      WHERE m.catalog_version = $version
  )
ORDER BY r.ingest_id
