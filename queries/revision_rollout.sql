-- name: revision_rollout
-- description: When a revision went live: its "Ready condition ... True for Revision" audit event, else its first entry, both from $since on (the look-back: forensics/incidents/lookback.py).
-- params: $revision VARCHAR, $since TIMESTAMPTZ
-- returns: service, ready_at, first_seen
-- cost: one scan of the entries from $since (timestamp, revision, log_id, message columns):
--   O(e) for the e entries from $since on, one aggregate row.
SELECT
    any_value(service) AS service,
    min("timestamp") FILTER (
        WHERE log_id = 'cloudaudit.googleapis.com/system_event'
          AND message LIKE '%Ready condition status changed to True for Revision%'
    ) AS ready_at,
    min("timestamp") AS first_seen
FROM entries
WHERE revision = $revision
  AND "timestamp" >= $since
