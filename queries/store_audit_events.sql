-- name: store_audit_events
-- description: Cloud Run and Serverless VPC Access audit entries (deploy calls, Ready condition changes, connector updates) with their payloads: every one in [$since, $until) (the look-back), and before $since the last $seed of each log, resource type and service, so the first deploy in the look-back is compared with the configuration before it.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $seed INTEGER
-- returns: timestamp, insert_id, log_id, severity, resource_type, service, revision, message, json_payload
-- cost: the look-back's entries, and before it a scan of the log_id column (audit entries are a
--   tiny share; only theirs are read further): O(n) with a small constant, then O(a log a) for
--   the a audit entries.
WITH audit AS (
    SELECT "timestamp", insert_id, log_id, severity, resource_type, service, revision, message,
           json_payload
    FROM entries
    WHERE "timestamp" < $until
      AND log_id IN ('cloudaudit.googleapis.com/activity', 'cloudaudit.googleapis.com/system_event')
      AND (
          resource_type LIKE 'cloud_run%'
          OR resource_type = 'vpc_access_connector'
          OR json_extract_string(json_payload, '$.serviceName') = 'vpcaccess.googleapis.com'
      )
),
seed AS (
    SELECT *
    FROM audit
    WHERE "timestamp" < $since
    QUALIFY row_number() OVER (
        PARTITION BY log_id, resource_type, service ORDER BY "timestamp" DESC, insert_id DESC
    ) <= $seed
)
SELECT * FROM seed
UNION ALL
SELECT * FROM audit WHERE "timestamp" >= $since
ORDER BY "timestamp", insert_id
