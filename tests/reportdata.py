"""Real inputs for the report tests: demo exports (plus hostile entries) ingested and classified.

Nothing here fakes an analysis: every store is built by the demo generator, ingest and the
signature classifier, exactly as `make demo` does, so the reports under test are real ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from forensics.analysis import AnalysisModel
from forensics.demo import generate_entries
from forensics.incidents import load_registry
from forensics.ingest import ingest_texts
from forensics.paths import patterns_dir
from forensics.pipeline import Sources, build_model, classify_pending
from forensics.signatures import load_catalog
from forensics.store import Store, open_store
from forensics.timeutil import Window

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "secrets_corpus.jsonl"

# The golden scenario: a fixed demo window, seed and size (regenerate goldens only on purpose).
GOLDEN_END = datetime(2025, 9, 17, tzinfo=UTC)
GOLDEN_SEED = 1278
GOLDEN_ENTRIES = 6000
GOLDEN_NOW = GOLDEN_END + timedelta(minutes=30)
GOLDEN_VERSION = "0.0.0+golden"
GOLDEN_WINDOW = Window(GOLDEN_END - timedelta(hours=24), GOLDEN_END)

# The demo's issue claims (as `make demo` uses them): #395 fixed by a deploy, #1278 and #1263
# claimed resolved with fresh evidence, so reports have contradictions and a resolved issue.
DEMO_REGISTRY = patterns_dir() / "issues.demo.yaml"

BACKEND = "netra-backend-staging"
BACKEND_REVISION = "netra-backend-staging-00412-abc"
HOSTILE_SERVICE = "svc<script>window.__pwned=11</script>"


def build_store(
    path: Path,
    *,
    entries: int,
    end: datetime = GOLDEN_END,
    seed: int = GOLDEN_SEED,
    extra: Iterable[dict[str, Any]] = (),
) -> Path:
    """Ingest a demo export (and ``extra`` entries) into a DuckDB file and classify it."""
    with open_store(path) as store:
        demo = (json.dumps(e) for e in generate_entries(entries, end=end, seed=seed))
        ingest_texts(store, demo, source="demo-export.jsonl")
        extra_texts = [json.dumps(e) for e in extra]
        if extra_texts:
            ingest_texts(store, extra_texts, source="hostile-corpus.jsonl")
        # Ingest runs record the wall clock; pin them so a report of this store is reproducible.
        store.conn.execute("UPDATE ingest_runs SET started = $t, finished = $t", {"t": end})
        classify_pending(store, load_catalog())  # as ingest does
    return path


def golden_model(store: Store, **options: Any) -> AnalysisModel:
    """The analysis model of the golden window with the demo's issue claims (report facts too)."""
    sources = Sources.with_registry(load_registry(DEMO_REGISTRY))
    return build_model(store, GOLDEN_WINDOW, sources, report=True, **options)


def report_context(store: Store, **options: Any) -> dict[str, Any]:
    """The report of the golden window, with the demo's issue claims, time and version."""
    redact = {"redact_emails": options.pop("redact_emails")} if "redact_emails" in options else {}
    model = golden_model(store, **options)
    return model.report_context(now=GOLDEN_NOW, version=GOLDEN_VERSION, **redact)


def corpus() -> list[dict[str, Any]]:
    """The secret and injection shapes of tests/fixtures/secrets_corpus.jsonl."""
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _run_entry(
    insert_id: str, when: datetime, service: str, revision: str, **fields: Any
) -> dict[str, Any]:
    return {
        "insertId": insert_id,
        "timestamp": _iso(when),
        "logName": "projects/netra-staging/logs/run.googleapis.com%2Fstderr",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": "netra-staging",
                "service_name": service,
                "revision_name": revision,
                "location": "us-central1",
            },
        },
        "labels": {"instanceId": f"0069c7a988corpus{insert_id}"},
        "severity": "ERROR",
        **fields,
    }


def corpus_entries(end: datetime = GOLDEN_END) -> list[dict[str, Any]]:
    """Log entries carrying every corpus text where a report shows log text.

    Each text rides on a line that a signature matches (so it becomes evidence), once as
    textPayload and once as a request URL of a 503; one entry has a hostile service and
    revision name, which reports print as labels.
    """
    base = end - timedelta(hours=3)
    out = []
    for i, case in enumerate(corpus()):
        when = base + timedelta(seconds=10 * i)
        text = f"Database initialization timeout after 75.0s: {case['text']}"
        out.append(
            _run_entry(f"corpus-{case['id']}", when, BACKEND, BACKEND_REVISION, textPayload=text)
        )
        request = _run_entry(
            f"corpus-req-{case['id']}",
            when + timedelta(seconds=1),
            BACKEND,
            BACKEND_REVISION,
            httpRequest={
                "requestMethod": "GET",
                "requestUrl": f"https://api.staging.netrasystems.ai/q?{case['text']}",
                "status": 503,
                "latency": "0.5s",
            },
        )
        request["logName"] = "projects/netra-staging/logs/run.googleapis.com%2Frequests"
        out.append(request)
    out.append(
        _run_entry(
            "corpus-hostile-service",
            base + timedelta(minutes=30),
            HOSTILE_SERVICE,
            'rev"><img src=x onerror=window.__pwned=12>',
            textPayload="Container called exit(3).",
        )
    )
    return out


def bare_entries(end: datetime = GOLDEN_END) -> list[dict[str, Any]]:
    """Each corpus text alone on an ERROR line: no signature matches, so it is mined into an
    unknown-error template (the one report section built from text the store derives)."""
    base = end - timedelta(hours=2)
    return [
        _run_entry(
            f"bare-{case['id']}",
            base + timedelta(seconds=10 * i),
            BACKEND,
            BACKEND_REVISION,
            textPayload=case["text"],
        )
        for i, case in enumerate(corpus())
    ]


def _point_value(value: dict[str, Any]) -> tuple[float, int | None, str]:
    if "distributionValue" in value:
        dist = value["distributionValue"]
        return float(dist.get("mean", 0.0)), int(dist.get("count", 0)), "distribution"
    for key, kind in (("int64Value", "int64"), ("doubleValue", "double"), ("boolValue", "bool")):
        if key in value:
            return float(value[key]), None, kind
    raise ValueError(f"unexpected point value {value}")


def load_demo_metrics(store: Store, end: datetime = GOLDEN_END) -> int:
    """The demo's Cloud Monitoring time series as metric_points rows, as the collectors store
    them (one row per point; a distribution's mean as value): real metrics for the overlays."""
    from forensics.demo import generate_time_series

    run = store.scalar(
        "INSERT INTO ingest_runs (ingest_id, source, started, finished, status) "
        "VALUES (nextval('ingest_id_seq'), 'monitoring:demo', $t, $t, 'complete') "
        "RETURNING ingest_id",
        {"t": end},
    )
    rows = []
    for series in generate_time_series(end, 24, GOLDEN_SEED):
        labels = series["resource"]["labels"]
        service = (
            labels.get("service_name") or labels.get("database_id") or labels.get("connector_name")
        )
        for point in series["points"]:
            value, count, kind = _point_value(point["value"])
            rows.append(
                (
                    series["metric"]["type"],
                    series["resource"]["type"],
                    json.dumps(labels),
                    json.dumps(series["metric"].get("labels", {})),
                    service,
                    point["interval"].get("startTime"),
                    point["interval"]["endTime"],
                    value,
                    count,
                    kind,
                    "monitoring:demo",
                    run,
                )
            )
    columns = [
        "metric_type", "resource_type", "resource_labels", "metric_labels", "service",
        "start_time", "point_time", "value", "value_count", "value_kind", "source", "ingest_id",
    ]  # fmt: skip
    points = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)  # noqa: F841
    store.conn.execute(
        f"INSERT INTO metric_points ({', '.join(columns)}) SELECT * REPLACE ("
        "CAST(start_time AS TIMESTAMPTZ) AS start_time, "
        "CAST(point_time AS TIMESTAMPTZ) AS point_time) FROM points"
    )
    return len(rows)
