"""The emulator against the real google-cloud clients: filters, paging, quota and faults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
import requests
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import logging as gcl
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import (
    MetricServiceGrpcTransport,
)

from forensics.clock import FastForwardClock
from forensics.emulator.data import EntryTable
from forensics.emulator.faults import FaultPlan
from forensics.emulator.filter_parser import (
    And,
    Compare,
    FilterSyntaxError,
    Global,
    LogId,
    Not,
    Or,
    parse_filter,
)
from forensics.emulator.filter_sql import compile_filter
from forensics.emulator.server import Emulator, EmulatorSettings
from tests import gcp_data as g

WINDOW = f'timestamp>="{g.iso(g.START)}" AND timestamp<"{g.iso(g.END)}"'


# ---- the parser ---------------------------------------------------------------------------


def test_or_binds_tighter_than_and_as_in_the_api() -> None:
    # The API documents: "a" OR NOT "b" AND NOT "c" OR "d"  ==  ("a" OR (NOT "b")) AND ...
    node = parse_filter('"a" OR NOT "b" AND NOT "c" OR "d"')
    assert node == And((Or((Global("a"), Not(Global("b")))), Or((Not(Global("c")), Global("d")))))


def test_comparisons_value_lists_negation_and_functions() -> None:
    node = parse_filter(
        'resource.type = ("a" OR "b") -severity>=ERROR labels."k8s-pod/app":* '
        'log_id("run.googleapis.com/stdout") textPayload=~"^x\\\\d"'
    )
    assert node == And(
        (
            Or(
                (
                    Compare(("resource", "type"), "=", "a", True),
                    Compare(("resource", "type"), "=", "b", True),
                )
            ),
            Not(Compare(("severity",), ">=", "ERROR", False)),
            Compare(("labels", "k8s-pod/app"), ":", "*", False),
            LogId("run.googleapis.com/stdout"),
            Compare(("textPayload",), "=~", "^x\\d", True),
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "(severity>=ERROR",
        "severity>=ERROR)",
        'textPayload:"open',
        "foo(1)",
        "severity>=",
        "textPayload=~unquoted",
        "AND severity=ERROR",
        '"quoted"="field"',
        "severity=*",
    ],
)
def test_unsupported_syntax_is_an_error(text: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse_filter(text)


# ---- matching semantics (compiled to SQL, run on real entries) -----------------------------


@pytest.fixture(scope="module")
def table() -> EntryTable:
    entries = list(g.day(300))
    entries.append(g.entry(999, g.START, "error") | {"textPayload": "MiXeD Case Needle"})
    return EntryTable(entries)


def _match(table: EntryTable, text: str) -> set[str]:
    where = compile_filter(parse_filter(text))
    return {insert_id for _, insert_id in table.insert_ids(where)}


def _expected(pred: Any) -> set[str]:
    entries = list(g.day(300))
    entries.append(g.entry(999, g.START, "error") | {"textPayload": "MiXeD Case Needle"})
    return {e["insertId"] for e in entries if pred(e)}


@pytest.mark.parametrize(
    ("text", "pred"),
    [
        ("severity>=ERROR", lambda e: e.get("severity") in ("ERROR", "CRITICAL")),
        ("severity=DEFAULT", lambda e: "severity" not in e),
        ("httpRequest.status>=500", lambda e: e.get("httpRequest", {}).get("status", 0) >= 500),
        ('textPayload:"needle"', lambda e: "needle" in e.get("textPayload", "").lower()),
        ('NOT textPayload:"needle"', lambda e: "needle" not in e.get("textPayload", "").lower()),
        ("jsonPayload.n:*", lambda e: "n" in e.get("jsonPayload", {})),
        (
            'resource.labels.service_name="AUTH"',
            lambda e: e["resource"]["labels"].get("service_name") == "auth",
        ),
        ('log_id("run.googleapis.com/varlog/system")', lambda e: "varlog" in e["logName"]),
        (
            'textPayload=~"^ValueError: bad input [0-9]*3$"',
            lambda e: (
                e.get("textPayload", "").startswith("ValueError") and e["textPayload"].endswith("3")
            ),
        ),
        ('"too many clients"', lambda e: "too many clients" in e.get("textPayload", "")),
        (
            f'timestamp>="{g.iso(g.START + timedelta(hours=12))}"',
            lambda e: e["timestamp"] >= g.iso(g.START + timedelta(hours=12)),
        ),
    ],
)
def test_filter_semantics_match_the_documented_rules(
    table: EntryTable, text: str, pred: Any
) -> None:
    expected = _expected(pred)
    assert expected, "the case must select something to be meaningful"
    assert _match(table, text) == expected


# ---- the Logging HTTP API through google-cloud-logging ------------------------------------


@pytest.fixture
def served() -> Iterator[Emulator]:
    with Emulator(g.day(2_500), clock=FastForwardClock()) as em:
        yield em


def _client(em: Emulator, project: str = g.PROJECT) -> gcl.Client:
    return gcl.Client(
        project=project,
        credentials=AnonymousCredentials(),
        _use_grpc=False,
        client_options={"api_endpoint": em.logging_endpoint},
    )


def _list(client: gcl.Client, body: dict[str, Any]) -> dict[str, Any]:
    data = {"resourceNames": [f"projects/{g.PROJECT}"], **body}
    result: dict[str, Any] = client._connection.api_request(
        method="POST", path="/entries:list", data=data
    )
    return result


def test_real_client_pages_through_everything_in_api_order(served: Emulator) -> None:
    got = list(_client(served).list_entries(filter_=WINDOW, order_by=gcl.ASCENDING, page_size=300))
    keys = [(e.timestamp, e.insert_id) for e in got]
    assert keys == sorted(keys)
    assert {e.insert_id for e in got} == {e["insertId"] for e in g.day(2_500)}
    assert served.logging.answered == 9  # ceil(2500 / 300)
    desc = list(
        _client(served).list_entries(filter_=WINDOW, order_by=gcl.DESCENDING, page_size=1000)
    )
    assert [e.insert_id for e in desc] == [e.insert_id for e in reversed(got)]


def test_other_projects_entries_are_not_served(served: Emulator) -> None:
    assert list(_client(served, "other-proj").list_entries(filter_=WINDOW)) == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"filter": "foo(1)", "pageSize": 10}, "Unparseable filter"),
        ({"filter": WINDOW, "pageSize": 1001}, "pageSize"),
        ({"filter": WINDOW, "orderBy": "severity"}, "orderBy"),
        ({"filter": WINDOW, "pageToken": "not-a-token"}, "page token"),
        ({"filter": "x" * 20_001}, "20000"),
    ],
)
def test_invalid_requests_are_400_invalid_argument(
    served: Emulator, body: dict[str, Any], needle: str
) -> None:
    with pytest.raises(gexc.BadRequest) as err:
        _list(_client(served), body)
    assert needle.lower() in err.value.message.lower()


def test_a_page_token_only_works_for_its_own_query(served: Emulator) -> None:
    client = _client(served)
    first = _list(client, {"filter": WINDOW, "pageSize": 10})
    other = WINDOW + " AND severity>=ERROR"
    with pytest.raises(gexc.BadRequest):
        _list(client, {"filter": other, "pageToken": first["nextPageToken"]})


def test_scan_budget_gives_empty_pages_with_a_token_and_the_client_carries_on() -> None:
    rare = WINDOW + ' AND textPayload:"too many clients"'
    settings = EmulatorSettings(scan_budget=5_000)
    with Emulator(g.day(20_000), clock=FastForwardClock(), settings=settings) as em:
        first = _list(_client(em), {"filter": rare, "pageSize": 1000})
        got = list(_client(em).list_entries(filter_=rare, page_size=1000))
    assert "nextPageToken" in first and len(first["entries"]) < 1000
    assert len(got) == sum(1 for e in g.day(20_000) if e["insertId"].startswith("sql_fatal"))


def test_quota_answers_the_real_429_after_60_calls_a_minute() -> None:
    clock = FastForwardClock()
    with Emulator(g.day(100), clock=clock) as em:
        client = _client(em)
        for _ in range(60):
            _list(client, {"filter": WINDOW, "pageSize": 1})
        with pytest.raises(gexc.TooManyRequests) as err:
            _list(client, {"filter": WINDOW, "pageSize": 1})
        clock.sleep(61)  # a minute later the window has moved on
        _list(client, {"filter": WINDOW, "pageSize": 1})
    assert err.value.reason == "RATE_LIMIT_EXCEEDED"
    assert err.value.metadata["quota_limit_value"] == "60"
    assert em.logging.quota.refused == 1


def test_faults_503_bursts_drops_and_429s_reach_the_client_as_real_errors() -> None:
    plan = FaultPlan(burst_503_every=2, burst_503_length=1, seed=3)
    with Emulator(
        g.day(100), clock=FastForwardClock(), settings=EmulatorSettings(logging_faults=plan)
    ) as em:
        client = _client(em)
        _list(client, {"filter": WINDOW})
        _list(client, {"filter": WINDOW})
        with pytest.raises(gexc.ServiceUnavailable):
            _list(client, {"filter": WINDOW})
        _list(client, {"filter": WINDOW})
    with (
        Emulator(
            g.day(10), settings=EmulatorSettings(logging_faults=FaultPlan(drop_rate=1.0))
        ) as em,
        pytest.raises(requests.exceptions.ConnectionError),
    ):
        _list(_client(em), {"filter": WINDOW})
    with (
        Emulator(
            g.day(10), settings=EmulatorSettings(logging_faults=FaultPlan(rate_429=1.0))
        ) as em,
        pytest.raises(gexc.TooManyRequests),
    ):
        _list(_client(em), {"filter": WINDOW})


# ---- the Monitoring gRPC API through MetricServiceClient ----------------------------------


BACKENDS = "cloudsql.googleapis.com/database/postgresql/num_backends"


def _series() -> list[dict[str, Any]]:
    return [
        g.gauge_series(
            "cloudsql.googleapis.com/database/postgresql/num_backends",
            g.SQL_RESOURCE,
            [float(i) for i in range(120)],
            value_type="INT64",
            labels={"database": db},
        )
        for db in ("app", "auth")
    ] + [
        g.utilization_series(
            "run.googleapis.com/container/memory/utilizations", g.run_resource(s), [[0.5, 0.6]] * 30
        )
        for s in g.SERVICES
    ]


def _metrics(em: Emulator) -> tuple[monitoring_v3.MetricServiceClient, grpc.Channel]:
    channel = grpc.insecure_channel(em.monitoring_endpoint, options=[("grpc.enable_http_proxy", 0)])
    return monitoring_v3.MetricServiceClient(
        transport=MetricServiceGrpcTransport(channel=channel)
    ), channel


def test_list_time_series_pages_by_points_and_clips_to_the_interval() -> None:
    with Emulator([], _series()) as em:
        client, channel = _metrics(em)
        pager = client.list_time_series(
            request={
                "name": f"projects/{g.PROJECT}",
                "filter": f'metric.type = "{BACKENDS}"',
                "interval": {
                    "start_time": g.START + timedelta(minutes=11),
                    "end_time": g.START + timedelta(minutes=100),
                },
                "page_size": 25,
            },
            retry=None,
        )
        pages = list(pager.pages)
        channel.close()
    points = [
        (dict(ts.metric.labels)["database"], p.value.int64_value)
        for page in pages
        for ts in page.time_series
        for p in ts.points
    ]
    # minutes 11..100 inclusive hold values 10..99, for two databases: 180 points
    assert len(points) == 180 and len(set(points)) == 180
    assert len(pages) == 8  # ceil(180 / 25)
    assert {v for _, v in points} == set(range(10, 100))


def _series_for(em: Emulator, metric_filter: str) -> list[Any]:
    client, channel = _metrics(em)
    try:
        request = {
            "name": f"projects/{g.PROJECT}",
            "interval": {"start_time": g.START, "end_time": g.END},
            "filter": metric_filter,
        }
        return list(client.list_time_series(request=request, retry=None))
    finally:
        channel.close()


def test_monitoring_filter_rules_and_injected_quota() -> None:
    angry = EmulatorSettings(monitoring_faults=FaultPlan(rate_429=1.0))
    memory = 'metric.type = "run.googleapis.com/container/memory/utilizations"'
    with Emulator([], _series()) as em, Emulator([], _series(), settings=angry) as refusing:
        one = _series_for(em, memory + ' AND resource.labels.service_name = "auth"')
        with pytest.raises(gexc.InvalidArgument):
            _series_for(em, 'resource.type = "cloudsql_database"')  # no metric.type
        with pytest.raises(gexc.ResourceExhausted):
            _series_for(refusing, memory)
    assert [dict(ts.resource.labels)["service_name"] for ts in one] == ["auth"]
