-- name: store_audit_events
-- description: Cloud Run and Serverless VPC Access audit entries (deploy calls, Ready condition changes, connector updates) with the fields a deploy marker reads from their payloads: every one in [$since, $until) (the look-back), and before $since the last $seed of each log, resource type and service, so the first deploy in the look-back is compared with the configuration before it. A payload that is not valid JSON has NULL fields (forensics/incidents/deploys.py skips it). config_json: for a Revision response the whole payload (its configuration is read only when its deploy call carries none), else the request's service and connector only.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $seed INTEGER
-- returns: timestamp, insert_id, log_id, severity, resource_type, service, revision, valid, method, label_service, resource_name, status_message, principal, response_kind, response_name, has_ready, ready_status, latest_created, latest_ready, config_json
-- cost: the a audit entries before $until from the per-run audit_entries (forensics/
--   window_rows.py; a tiny share of the entries, never a scan of them: a run whose rows are
--   not current is read from its entries), then O(a log a), the payloads read in DuckDB (one
--   JSON parse each, no Python parse but of the configuration a call carries).
WITH audit AS (  -- stored per ingest run (forensics/window_rows.py: audit_entries)
    SELECT *
    FROM audit_entries_in(CAST('-infinity' AS TIMESTAMPTZ), $until)
),
seed AS (
    SELECT *
    FROM audit
    WHERE "timestamp" < $since
    QUALIFY row_number() OVER (
        PARTITION BY log_id, resource_type, service ORDER BY "timestamp" DESC, insert_id DESC
    ) <= $seed
),
picked AS (  -- one parse per payload: every path read in one json_extract call (NULL: not JSON)
    SELECT
        * EXCLUDE (json_payload),
        try(json_extract(json_payload, [
            '$.methodName',
            '$.response.metadata.labels."serving.knative.dev/service"',
            '$.resourceName',
            '$.status.message',
            '$.authenticationInfo.principalEmail',
            '$.response.kind',
            '$.response.metadata.name',
            '$.response.status.latestCreatedRevisionName',
            '$.response.status.latestReadyRevisionName',
            '$.response.status.conditions',
            '$.request.service',
            '$.request.connector'
        ])) AS j,
        json_payload
    FROM (SELECT * FROM seed UNION ALL SELECT * FROM audit WHERE "timestamp" >= $since)
),
fields AS (
    SELECT
        * EXCLUDE (j, json_payload),
        j IS NOT NULL AS valid,
        j[1] ->> '$' AS method,
        j[2] ->> '$' AS label_service,
        j[3] ->> '$' AS resource_name,
        j[4] ->> '$' AS status_message,
        j[5] ->> '$' AS principal,
        j[6] ->> '$' AS response_kind,
        j[7] ->> '$' AS response_name,
        j[8] ->> '$' AS latest_created,
        j[9] ->> '$' AS latest_ready,
        list_filter(
            json_extract(j[10], '$[*]'), c -> json_extract_string(c, '$.type') = 'Ready'
        )[1] AS ready_condition,
        CASE
            WHEN j IS NULL THEN NULL
            WHEN j[6] ->> '$' = 'Revision' THEN json_payload
            ELSE json_object('request', json_object('service', j[11], 'connector', j[12]))::VARCHAR
        END AS config_json
    FROM picked
)
SELECT
    * EXCLUDE (ready_condition, config_json),
    ready_condition IS NOT NULL AS has_ready,
    json_extract(ready_condition, '$.status')::VARCHAR AS ready_status,  -- JSON text
    config_json
FROM fields
ORDER BY "timestamp", insert_id
