-- name: window_projects
-- description: GCP projects the window's entries come from, most entries first (the report links Logs Explorer to the first).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: project_id, n
-- cost: the project_id of the window's entries (the entries view filtered on timestamp), one
--   hash aggregate: O(e) for the e entries in the window.
SELECT
    project_id,
    count(*) AS n
FROM entries
WHERE "timestamp" >= $since
  AND "timestamp" < $until
  AND project_id IS NOT NULL
GROUP BY project_id
ORDER BY n DESC, project_id
