-- name: window_projects
-- description: GCP projects the window's entries come from, most entries first (the report links Logs Explorer to the first).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ
-- returns: project_id, n
SELECT
    project_id,
    count(*) AS n
FROM entries
WHERE "timestamp" >= $since
  AND "timestamp" < $until
  AND project_id IS NOT NULL
GROUP BY project_id
ORDER BY n DESC, project_id
