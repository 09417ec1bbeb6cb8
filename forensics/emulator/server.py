"""Run the Cloud Logging + Cloud Monitoring emulator on 127.0.0.1, in-process or as a command.

Usage:
  1. ``Emulator(entries, series, clock=..., settings=EmulatorSettings(...))`` loads the data;
     ``with emulator:`` (or ``start()``/``stop()``) serves it on two free ports.
  2. Point the collectors at ``emulator.logging_endpoint`` (``http://127.0.0.1:PORT``) and
     ``emulator.monitoring_endpoint`` (``127.0.0.1:PORT``), or export ``emulator.env()``:
     FORENSICS_LOGGING_ENDPOINT and FORENSICS_MONITORING_ENDPOINT.
  3. ``demo_data(...)`` gives the demo generator's day of logs and metrics; ``entries_from_files``
     and ``series_from_files`` (forensics.emulator.data) read exports instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any

import grpc

from forensics.clock import Clock, RealClock
from forensics.emulator.data import EntryTable, SeriesTable
from forensics.emulator.faults import FaultInjector, FaultPlan, Quota
from forensics.emulator.logging_http import DEFAULT_SCAN_BUDGET, LoggingService, make_http_server
from forensics.emulator.monitoring_grpc import MonitoringService, make_grpc_server
from forensics.errors import ConfigError

__all__ = ["Emulator", "EmulatorSettings", "demo_data"]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class EmulatorSettings:
    """Ports, quotas and faults. Port 0 picks a free port."""

    host: str = LOOPBACK
    http_port: int = 0
    grpc_port: int = 0
    logging_quota_per_minute: int = 60  # the real default for entries.list (0: no quota)
    monitoring_quota_per_minute: int = 6000
    logging_faults: FaultPlan = field(default_factory=FaultPlan)
    monitoring_faults: FaultPlan = field(default_factory=FaultPlan)
    scan_budget: int = DEFAULT_SCAN_BUDGET


class Emulator:
    """Both fake APIs over one data set."""

    def __init__(
        self,
        entries: Iterable[dict[str, Any]],
        series: Iterable[dict[str, Any]] = (),
        *,
        clock: Clock | None = None,
        settings: EmulatorSettings | None = None,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.clock = clock or RealClock()
        s = self.settings
        self.entries = EntryTable(entries)
        self.series = SeriesTable(series)
        self.logging = LoggingService(
            self.entries,
            Quota(s.logging_quota_per_minute, self.clock),
            FaultInjector(s.logging_faults),
            self.clock,
            scan_budget=s.scan_budget,
        )
        self.monitoring = MonitoringService(
            self.series,
            Quota(s.monitoring_quota_per_minute, self.clock),
            FaultInjector(s.monitoring_faults),
            self.clock,
        )
        self._http: ThreadingHTTPServer | None = None
        self._grpc: grpc.Server | None = None
        self.http_port = 0
        self.grpc_port = 0

    def start(self) -> Emulator:
        s = self.settings
        try:
            self._http = make_http_server(self.logging, s.host, s.http_port)
        except OSError as err:
            raise ConfigError(f"cannot listen on {s.host}:{s.http_port}: {err.strerror}") from err
        self.http_port = int(self._http.server_address[1])
        threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self._grpc, self.grpc_port = make_grpc_server(self.monitoring, s.host, s.grpc_port)
        if not self.grpc_port:
            self.stop()
            raise ConfigError(f"cannot listen for gRPC on {s.host}:{s.grpc_port}")
        self._grpc.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._grpc is not None:
            self._grpc.stop(grace=None)
            self._grpc = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def logging_endpoint(self) -> str:
        return f"http://{self.settings.host}:{self.http_port}"

    @property
    def monitoring_endpoint(self) -> str:
        return f"{self.settings.host}:{self.grpc_port}"

    def env(self) -> dict[str, str]:
        """The environment that points the collectors here."""
        return {
            "FORENSICS_LOGGING_ENDPOINT": self.logging_endpoint,
            "FORENSICS_MONITORING_ENDPOINT": self.monitoring_endpoint,
        }


def demo_data(
    n_entries: int, end: datetime | None, hours: int, seed: int = 1278
) -> tuple[Iterator[dict[str, Any]], list[dict[str, Any]]]:
    """The demo generator's entries (a stream) and time series for the window."""
    try:
        from forensics.demo import generate_entries, generate_time_series
    except ImportError as err:  # the generator ships with the package; guard partial installs
        raise ConfigError(f"the demo generator is not available: {err}") from err
    return (
        generate_entries(n_entries, end=end, hours=hours, seed=seed),
        generate_time_series(end=end, hours=hours, seed=seed),
    )
