-- name: store_audit_events
-- description: Cloud Run and Serverless VPC Access audit entries before $until (deploy calls, Ready condition changes, connector updates) with their payloads.
-- params: $until TIMESTAMPTZ
-- returns: timestamp, insert_id, log_id, severity, resource_type, service, revision, message, json_payload
SELECT "timestamp", insert_id, log_id, severity, resource_type, service, revision, message, json_payload
FROM entries
WHERE "timestamp" < $until
  AND log_id IN ('cloudaudit.googleapis.com/activity', 'cloudaudit.googleapis.com/system_event')
  AND (
      resource_type LIKE 'cloud_run%'
      OR resource_type = 'vpc_access_connector'
      OR json_extract_string(json_payload, '$.serviceName') = 'vpcaccess.googleapis.com'
  )
ORDER BY "timestamp", insert_id
