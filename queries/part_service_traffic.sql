-- name: part_service_traffic
-- description: Cloud Run traffic in [$since, $until) cut at $cuts into parts (part: the time its part starts at), per part, hour and service, from minute_volume (request logs brought home, or a BigQuery source's per-minute counts): requests, 5xx, successful (< 400), requests pulled by a Logging collector, requests counted in BigQuery, instance starts, whether the hour holds a successful request of a file ingest (file_ok) and any Cloud Run entry of one (file_active), and per part and service the request_count metric's points in (part start, next part start]. forensics/incidents/traffic.py sums the parts of any range that starts and ends at a cut, so an analysis reads its traffic once however many ranges it asks about. A row with hour NULL is a metric row.
-- params: $since TIMESTAMPTZ, $until TIMESTAMPTZ, $cuts TIMESTAMPTZ[]
-- returns: part, hour, service, requests, five_xx, ok, pulled_requests, counted_requests, instance_starts, file_ok, file_active, metric_points, metric_requests, metric_5xx
-- cost: O(hours x groups of the range, from the per-hour ledger (hour_ledger: the hours with no cut and no counted minute inside), + minutes x groups of the other hours, from the per-minute ledger (minute_ledger), + entries of the minutes a cut or an end falls inside + metric points in the range): timestamp-pruned scans and hash aggregates, no rescan of the range's entries (a run without ledger rows is counted from its entries); the output is O((hours + cuts) x services), whatever the number of cuts.
WITH volume AS (
    SELECT
        part,
        -- the hour by arithmetic (the store's session is UTC): date_trunc on a TIMESTAMPTZ goes
        -- through the ICU calendar, a tenth of a CPU second per 300,000 minute rows
        make_timestamptz(epoch_us(minute) // 3600000000 * 3600000000) AS hour,
        service,
        request AND (counted OR resource_type = 'cloud_run_revision') AS is_request,
        counted,
        starts_with(source, 'logging:') AS pulled,  -- a collector's source, else a file path
        http_status,
        resource_type,
        instance_starts,
        entries
    FROM (
        SELECT * FROM minute_volume($since, $until, cuts := CAST($cuts AS TIMESTAMPTZ[]), hourly := true)
        UNION ALL  -- the hours read whole: from the hourly ledger (forensics/minute_ledger.py)
        SELECT * FROM hour_volume($since, $until, cuts := CAST($cuts AS TIMESTAMPTZ[]))
    )
    WHERE resource_type = 'cloud_run_revision' OR counted
)
SELECT
    part,
    hour,
    service,
    coalesce(sum(entries) FILTER (WHERE is_request), 0)::BIGINT AS requests,
    coalesce(sum(entries) FILTER (WHERE is_request AND http_status >= 500), 0)::BIGINT AS five_xx,
    coalesce(sum(entries) FILTER (WHERE is_request AND http_status < 400), 0)::BIGINT AS ok,
    coalesce(sum(entries) FILTER (WHERE is_request AND pulled), 0)::BIGINT AS pulled_requests,
    coalesce(sum(entries) FILTER (WHERE is_request AND counted), 0)::BIGINT AS counted_requests,
    coalesce(sum(instance_starts), 0)::BIGINT AS instance_starts,
    coalesce(bool_or(is_request AND http_status < 400 AND NOT pulled AND NOT counted), false)
        AS file_ok,
    coalesce(bool_or(resource_type = 'cloud_run_revision' AND NOT pulled), false) AS file_active,
    NULL::BIGINT AS metric_points,
    NULL::DOUBLE AS metric_requests,
    NULL::DOUBLE AS metric_5xx
FROM volume
GROUP BY part, hour, service
UNION ALL
SELECT
    p.part,
    NULL AS hour,
    m.service,
    0, 0, 0, 0, 0, 0, false, false,
    count(*) AS metric_points,
    sum(m.value) AS metric_requests,
    coalesce(sum(m.value) FILTER (
        WHERE json_extract_string(m.metric_labels, '$.response_code_class') = '5xx'
    ), 0) AS metric_5xx
FROM metric_points AS m
ASOF JOIN (SELECT unnest(list_concat([CAST($since AS TIMESTAMPTZ)], CAST($cuts AS TIMESTAMPTZ[]))) AS part) AS p
  ON m.point_time > p.part
WHERE m.metric_type = 'run.googleapis.com/request_count'
  AND m.point_time > $since
  AND m.point_time <= $until
GROUP BY p.part, m.service
