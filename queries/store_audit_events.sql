-- name: store_audit_events
-- description: Cloud Run and Serverless VPC Access audit entries (deploy calls, Ready condition changes, connector updates) with the fields a deploy marker reads from their payloads: every one in [$since, $until) (the look-back), and before $since the last $seed of each log, resource type and service, so the first deploy in the look-back is compared with the configuration before it. A payload that is not valid JSON has NULL fields (forensics/incidents/deploys.py skips it). config_json: for a Revision response the whole payload (its configuration is read only when its deploy call carries none), else the request's service and connector only.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $seed INTEGER
-- returns: timestamp, insert_id, service, kind, method, severity, revision, ready, principal, message, config_json
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
            ELSE  -- the request's service and connector (text put together: no parse of either)
                '{"request":{"service":' || coalesce(j[11]::VARCHAR, 'null')
                || ',"connector":' || coalesce(j[12]::VARCHAR, 'null') || '}}'
        END AS config_json
    FROM picked
),
events AS (  -- what forensics/incidents/deploys.py makes an event of (NULL kind: none)
    SELECT
        *,
        CASE
            WHEN NOT valid THEN NULL
            WHEN suffix(log_id, '/activity') AND contains(coalesce(method, ''), 'vpcaccess')
                THEN 'connector'  -- an event only if its request names a setting
            WHEN suffix(log_id, '/activity') AND (
                suffix(method, 'ReplaceService') OR suffix(method, 'UpdateService')
                OR suffix(method, 'CreateService')
            ) THEN 'call'
            WHEN suffix(log_id, '/system_event') AND response_kind = 'Revision' THEN 'revision'
            WHEN suffix(log_id, '/system_event') AND response_kind = 'Service' THEN 'service'
        END AS kind
    FROM fields
)
SELECT
    "timestamp",
    insert_id,
    -- the entry's service, else the payload's label, else the resource name's last part
    coalesce(
        nullif(service, ''),
        nullif(label_service, ''),
        string_split(coalesce(resource_name, ''), '/')[-1]
    ) AS service,
    kind,
    coalesce(method, '') AS method,
    severity,
    CASE kind  -- the revision a Ready event names (an empty name: the next one)
        WHEN 'revision' THEN CASE WHEN response_name <> '' THEN response_name ELSE revision END
        WHEN 'service' THEN CASE WHEN latest_created <> '' THEN latest_created ELSE latest_ready END
    END AS revision,
    CASE
        WHEN kind NOT IN ('revision', 'service') THEN NULL
        WHEN ready_condition IS NOT NULL THEN  -- True/"True" and their False twins; else unknown
            CASE json_extract(ready_condition, '$.status')::VARCHAR
                WHEN 'true' THEN true WHEN '"True"' THEN true
                WHEN 'false' THEN false WHEN '"False"' THEN false
            END
        WHEN contains(coalesce(status_message, ''), 'status changed to True') THEN true
        WHEN contains(coalesce(status_message, ''), 'status changed to False') THEN false
    END AS ready,
    principal,
    status_message AS message,
    config_json
FROM events
WHERE kind IS NOT NULL
ORDER BY "timestamp", insert_id
