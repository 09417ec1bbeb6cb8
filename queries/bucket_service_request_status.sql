-- name: bucket_service_request_status
-- description: Cloud Run request logs per time bucket ($bucket_s seconds) and service: requests, 5xx responses, and the first and last 5xx entry of the bucket (for impact start and end).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bucket_s INTEGER
-- returns: bucket, service, requests, failed, first_failed_at, first_failed_insert_id, first_failed_revision, last_failed_at, last_failed_insert_id, last_failed_revision
WITH requests AS (
    SELECT
        to_timestamp(floor(epoch("timestamp") / $bucket_s) * $bucket_s) AS bucket,
        coalesce(service, '(none)') AS service,
        "timestamp",
        insert_id,
        revision,
        http_status >= 500 AS failed
    FROM entries
    WHERE http_status IS NOT NULL
      AND "timestamp" >= $since
      AND "timestamp" < $until
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY bucket, service, failed ORDER BY "timestamp", insert_id
        ) AS rn_first,
        row_number() OVER (
            PARTITION BY bucket, service, failed ORDER BY "timestamp" DESC, insert_id DESC
        ) AS rn_last
    FROM requests
)
SELECT
    bucket,
    service,
    count(*) AS requests,
    count(*) FILTER (WHERE failed) AS failed,
    min("timestamp") FILTER (WHERE failed AND rn_first = 1) AS first_failed_at,
    min(insert_id) FILTER (WHERE failed AND rn_first = 1) AS first_failed_insert_id,
    min(revision) FILTER (WHERE failed AND rn_first = 1) AS first_failed_revision,
    max("timestamp") FILTER (WHERE failed AND rn_last = 1) AS last_failed_at,
    max(insert_id) FILTER (WHERE failed AND rn_last = 1) AS last_failed_insert_id,
    max(revision) FILTER (WHERE failed AND rn_last = 1) AS last_failed_revision
FROM ranked
GROUP BY bucket, service
ORDER BY bucket, service
