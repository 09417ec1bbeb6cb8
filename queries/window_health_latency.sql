-- name: window_health_latency
-- description: Requests to /health* endpoints in the window per service: count, latency percentiles and maximum, how many took $slow_s or longer and how many failed with 5xx (a request logged without a latency still counts).
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $slow_s DOUBLE
-- returns: service, requests, p50_s, p95_s, max_s, slow, errors_5xx, slowest_insert_id
-- cost: O(/health requests in the window): health_requests_in (forensics/window_rows.py, stored per ingest run) and one hash aggregate.
SELECT
    service,
    count(*) AS requests,
    quantile_cont(http_latency_ms, 0.5) / 1000.0 AS p50_s,
    quantile_cont(http_latency_ms, 0.95) / 1000.0 AS p95_s,
    max(http_latency_ms) / 1000.0 AS max_s,
    count(*) FILTER (WHERE http_latency_ms >= $slow_s * 1000) AS slow,
    count(*) FILTER (WHERE http_status >= 500) AS errors_5xx,
    arg_max(insert_id, http_latency_ms) AS slowest_insert_id
FROM health_requests_in($since, $until)
GROUP BY service
ORDER BY service
