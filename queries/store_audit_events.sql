-- name: store_audit_events
-- description: Cloud Run and Serverless VPC Access audit entries (deploy calls, Ready condition changes, connector updates) with the fields a deploy marker reads from their payloads: every one in [$since, $until) (the look-back), and before $since the last $seed of each log, resource type and service, so the first deploy in the look-back is compared with the configuration before it. A payload that is not valid JSON has NULL fields (forensics/incidents/deploys.py skips it). config_json: the request's service and connector, and for a Revision response its kind, metadata and spec (its configuration is read only when its deploy call carries none).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $seed INTEGER
-- returns: timestamp, insert_id, log_id, severity, resource_type, service, revision, valid, method, label_service, resource_name, status_message, principal, response_kind, response_name, latest_created, latest_ready, has_ready, ready_status, config_json
-- cost: the a audit entries before $until from the per-run audit_events (forensics/
--   window_rows.py: their payloads parsed once per ingest run, a tiny share of the entries,
--   never a scan of them: a run whose rows are not current is read from its entries), then
--   O(a log a); no JSON parsed here.
WITH audit AS (  -- stored per ingest run (forensics/window_rows.py: audit_events)
    SELECT *
    FROM audit_events_in(CAST('-infinity' AS TIMESTAMPTZ), $until)
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
