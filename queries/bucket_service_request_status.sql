-- name: bucket_service_request_status
-- description: Requests per time bucket ($bucket_s seconds, a multiple of 60) and service: requests and 5xx responses from minute_volume (request logs brought home, or a BigQuery source's per-minute counts), and the first and last 5xx entry of the bucket the store holds (for impact start and end).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $bucket_s INTEGER
-- returns: bucket, service, requests, failed, first_failed_at, first_failed_insert_id, first_failed_revision, last_failed_at, last_failed_insert_id, last_failed_revision
-- cost: O(entries in the window): one timestamp-pruned scan and hash aggregates for the counts, one more over the 5xx entries ranked per bucket (O(f log f) for f of them).
WITH counts AS (
    SELECT
        to_timestamp(floor(epoch(minute) / $bucket_s) * $bucket_s) AS bucket,
        coalesce(service, '(none)') AS service,
        sum(entries)::BIGINT AS requests,
        coalesce(sum(entries) FILTER (WHERE http_status >= 500), 0)::BIGINT AS failed
    FROM minute_volume($since, $until)
    WHERE request
    GROUP BY ALL
),
failing AS (
    SELECT
        to_timestamp(floor(epoch("timestamp") / $bucket_s) * $bucket_s) AS bucket,
        coalesce(service, '(none)') AS service,
        "timestamp",
        insert_id,
        revision
    FROM entries
    WHERE http_status >= 500
      AND "timestamp" >= $since
      AND "timestamp" < $until
),
edges AS (
    SELECT
        bucket,
        service,
        arg_min(struct_pack("timestamp", insert_id, revision), ("timestamp", insert_id)) AS first,
        arg_max(struct_pack("timestamp", insert_id, revision), ("timestamp", insert_id)) AS last
    FROM failing
    GROUP BY bucket, service
)
SELECT
    c.bucket,
    c.service,
    c.requests,
    c.failed,
    e.first."timestamp" AS first_failed_at,
    e.first.insert_id AS first_failed_insert_id,
    e.first.revision AS first_failed_revision,
    e.last."timestamp" AS last_failed_at,
    e.last.insert_id AS last_failed_insert_id,
    e.last.revision AS last_failed_revision
FROM counts AS c
LEFT JOIN edges AS e
  ON e.bucket = c.bucket AND e.service = c.service
ORDER BY c.bucket, c.service
