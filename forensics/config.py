"""forensics.toml: the project, its resources, how to collect and the signal thresholds.

Usage:
  1. ``load_config(path)`` reads ``path``, else $FORENSICS_CONFIG, else ./forensics.toml when it
     exists, else the defaults. Unknown keys and wrong types are errors naming the file and key.
  2. Command-line flags override the file: ``config.with_overrides(project=..., ...)``.
  3. Every key is documented once, in the ``doc`` metadata below; ``forensics.toml.example``
     shows them all (a test keeps the two in step).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.errors import ConfigError

__all__ = [
    "BigQuerySettings",
    "CollectSettings",
    "Config",
    "Resources",
    "Thresholds",
    "default_config_path",
    "describe_keys",
    "load_config",
]

DEFAULT_CONFIG = "forensics.toml"


def _key(default: Any, doc: str, minimum: float | None = None) -> Any:
    """A config key: its default, its one-line documentation and its smallest allowed value."""
    return field(default=default, metadata={"doc": doc, "min": minimum})


@dataclass(frozen=True)
class Resources:
    """[resources]: what to collect. An empty list means every one in the project."""

    services: tuple[str, ...] = _key((), "Cloud Run service names.")
    sql_instances: tuple[str, ...] = _key((), "Cloud SQL instance names (not connection names).")
    connectors: tuple[str, ...] = _key((), "Serverless VPC Access connector names.")


@dataclass(frozen=True)
class CollectSettings:
    """[collect]: how the collectors talk to the APIs."""

    logs: bool = _key(True, "Pull Cloud Logging entries.")
    metrics: bool = _key(True, "Pull Cloud Monitoring time series and compute signals.")
    pushdown: bool = _key(
        True,
        "Pull only failure candidates and their context (server-side filter) instead of every "
        "entry; request volumes come from metrics.",
    )
    page_size: int = _key(1000, "Entries per entries.list call (the API allows at most 1000).", 1)
    calls_per_minute: float = _key(
        55.0, "entries.list calls per minute; the API's quota is 60 per project.", 0.001
    )
    burst: int = _key(5, "Calls allowed back to back; keep calls_per_minute + burst <= 60.", 1)
    metrics_calls_per_minute: float = _key(300.0, "ListTimeSeries calls per minute.", 0.001)
    metrics_page_size: int = _key(100_000, "Points per ListTimeSeries call (API max 100000).", 1)
    max_attempts: int = _key(8, "Attempts per call before the source is recorded as a gap.", 1)
    backoff_base_s: float = _key(1.0, "First backoff ceiling; doubles per retry (full jitter).", 0)
    backoff_cap_s: float = _key(60.0, "Largest backoff ceiling, seconds.", 0)
    timeout_s: float = _key(60.0, "Timeout of one API call, seconds.", 0.001)
    settle_minutes: float = _key(
        5.0, "Entries this close to now may still arrive; they are pulled again next run.", 0
    )
    late_minutes: float = _key(
        65.0,
        "Entries can reach Cloud Logging this long after their timestamp: each run pulls once "
        "more what of the last late_minutes already collected was received since the previous "
        "run (one query per source); 0 turns it off.",
        0,
    )
    context_seconds: float = _key(
        30.0,
        "With pushdown, also pull all stdout/stderr lines this many seconds around each error "
        "(tracebacks split across entries); 0 turns it off.",
        0,
    )
    max_context_ranges: int = _key(40, "At most this many context ranges (nearest merged).", 1)
    logging_endpoint: str = _key(
        "", "Cloud Logging endpoint, e.g. http://127.0.0.1:8089 (the emulator); empty: Google."
    )
    monitoring_endpoint: str = _key(
        "", "Cloud Monitoring gRPC host:port, e.g. 127.0.0.1:8090 (the emulator); empty: Google."
    )


@dataclass(frozen=True)
class BigQuerySettings:
    """[bigquery]: run the signature pass in BigQuery (a log sink or Log Analytics dataset)."""

    source: str = _key(
        "",
        "PROJECT.DATASET (a Log Router sink's dataset) or PROJECT.DATASET._AllLogs (a Log "
        "Analytics linked dataset); empty: collect from the Logging API.",
    )
    endpoint: str = _key(
        "", "BigQuery API URL, e.g. http://127.0.0.1:9050 (an emulator); empty: Google."
    )
    max_bytes_billed: int = _key(
        50 * 2**30,
        "Refuse any query that would bill more bytes than this (50 GiB: about $0.31 at "
        "$6.25/TiB on-demand).",
        1,
    )
    candidates_per_template: int = _key(
        20,
        "Whole unknown-error entries brought home per template and service (and each "
        "template's first in every hour); the rest come home as counts per minute. Every "
        "matched entry comes home whole.",
        1,
    )
    context_per_minute: int = _key(
        20,
        "Context lines ([collect] context_seconds around a brought-home entry) per instance "
        "and minute.",
        0,
    )
    context_per_revision: int = _key(
        400, "Context lines per service revision in the window (a crash loop's cap).", 0
    )
    timeout_s: float = _key(600.0, "Timeout of one BigQuery query job, seconds.", 1)


@dataclass(frozen=True)
class Thresholds:
    """[thresholds]: when a metric becomes a signal. Utilizations are fractions (0.85 = 85%)."""

    run_memory_utilization: float = _key(0.85, "Cloud Run container memory utilization.", 0)
    run_cpu_utilization: float = _key(0.90, "Cloud Run container CPU utilization.", 0)
    sustained_minutes: int = _key(3, "Minutes a utilization must stay over to be a signal.", 1)
    cloudsql_max_connections: int = _key(100, "The Cloud SQL instance's max_connections.", 1)
    cloudsql_connections_ratio: float = _key(
        0.80, "Signal when backends reach this share of max_connections.", 0
    )
    pool_size: int = _key(10, "Each Cloud Run instance's SQLAlchemy pool_size.", 0)
    max_overflow: int = _key(15, "Each Cloud Run instance's SQLAlchemy max_overflow.", 0)
    connector_cpu_utilization: float = _key(0.80, "VPC connector CPU utilization.", 0)


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    project: str | None = None
    resources: Resources = field(default_factory=Resources)
    collect: CollectSettings = field(default_factory=CollectSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    bigquery: BigQuerySettings = field(default_factory=BigQuerySettings)
    path: Path | None = None

    def with_overrides(self, **values: Any) -> Config:
        """A copy with flags applied; ``None`` and ``()`` (flag not given) keep the file's value."""
        changes: dict[str, dict[str, Any]] = {"resources": {}, "collect": {}, "bigquery": {}}
        top: dict[str, Any] = {}
        for name, value in values.items():
            if value is None or value == ():
                continue
            if name in _field_names(Resources):
                changes["resources"][name] = tuple(value)
            elif name in _field_names(CollectSettings):
                changes["collect"][name] = value
            elif name.startswith("bigquery_") and name[9:] in _field_names(BigQuerySettings):
                changes["bigquery"][name[9:]] = value
            elif name == "project":
                top["project"] = value
            else:
                raise ValueError(f"unknown override {name}")
        return dataclasses.replace(
            self,
            resources=dataclasses.replace(self.resources, **changes["resources"]),
            collect=dataclasses.replace(self.collect, **changes["collect"]),
            bigquery=dataclasses.replace(self.bigquery, **changes["bigquery"]),
            **top,
        )


_SECTIONS: dict[str, type] = {
    "resources": Resources,
    "collect": CollectSettings,
    "thresholds": Thresholds,
    "bigquery": BigQuerySettings,
}


def _field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def default_config_path() -> Path | None:
    """$FORENSICS_CONFIG, else ./forensics.toml if present."""
    env = os.environ.get("FORENSICS_CONFIG")
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG)
    return local if local.is_file() else None


def _coerce(where: str, f: dataclasses.Field[Any], value: Any) -> Any:
    kind = str(f.type)
    if kind.startswith("tuple"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f'{where}: expected a list of names, e.g. ["a", "b"]')
        return tuple(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    number_ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not number_ok or (kind == "int" and not isinstance(value, int)):
        raise ConfigError(f"{where}: expected {'an integer' if kind == 'int' else 'a number'}")
    minimum = f.metadata.get("min")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, got {value}")
    return float(value) if kind == "float" else value


def _section(path: Path, name: str, cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{path}: [{name}] unknown key {key!r} (known: {known})")
        values[key] = _coerce(f"{path}: [{name}] {key}", fields[key], value)
    return cls(**values)


def load_config(path: Path | None = None) -> Config:
    """Read the configuration (see the module docstring for where it is looked up)."""
    path = path if path is not None else default_config_path()
    if path is None:
        return Config()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    sections: dict[str, Any] = {}
    project = None
    for key, value in data.items():
        if key == "project":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: project must be a project id string")
            project = value
        elif key in _SECTIONS:
            sections[key] = _section(path, key, _SECTIONS[key], value)
        else:
            known = ", ".join(["project", *(f"[{s}]" for s in _SECTIONS)])
            raise ConfigError(f"{path}: unknown key {key!r} (known: {known})")
    return Config(project=project, path=path, **sections)


def describe_keys() -> list[tuple[str, str, Any, str]]:
    """(section, key, default, doc) for every key: for docs and the example-file test."""
    rows: list[tuple[str, str, Any, str]] = [("", "project", None, "GCP project id to collect.")]
    for section, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            rows.append((section, f.name, f.default, f.metadata["doc"]))
    return rows
