"""The live demo: the demo generator's day served by the emulator, pulled by the real collectors.

``collect_demo(db, ...)`` starts the emulator in-process on 127.0.0.1 with the demo's logs and
metrics, runs ``forensics.collectors.collect`` against it with the real google-cloud clients
(the production code path, pushdown, checkpoints and all), and stops it. The quota is enforced
at the real 60 calls per minute on a fast-forward clock: waits cost no time but are counted, so
the report's elapsed time is what the same pull would take against Google.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

from forensics.clock import FastForwardClock
from forensics.collectors.collect import CollectReport, collect, make_clients, request_from_config
from forensics.collectors.pull import Progress
from forensics.config import Config, Resources
from forensics.demo import DEMO_PROJECT
from forensics.emulator.server import Emulator, EmulatorSettings, demo_data
from forensics.store import open_store
from forensics.timeutil import utcnow, window_ending

__all__ = ["DEMO_PROJECT", "collect_demo"]


def collect_demo(
    db: Path,
    config: Config,
    *,
    n_entries: int = 20_000,
    hours: int = 24,
    end: datetime | None = None,
    seed: int = 1278,
    progress: Progress | None = None,
) -> CollectReport:
    """Serve the demo day on 127.0.0.1 and collect it into ``db``; returns the report."""
    end = end or utcnow().replace(second=0)  # the demo generator's own default end
    window = window_ending(hours, end)
    entries, series = demo_data(n_entries, end, hours, seed)
    clock = FastForwardClock()
    emulator = Emulator(entries, series, clock=clock, settings=EmulatorSettings())
    with emulator:
        # The demo's own project and every resource in it; thresholds and collect settings
        # still come from the user's configuration.
        cfg = dataclasses.replace(config, resources=Resources()).with_overrides(
            project=DEMO_PROJECT,
            logging_endpoint=emulator.logging_endpoint,
            monitoring_endpoint=emulator.monitoring_endpoint,
        )
        request = request_from_config(cfg, window)
        clients = make_clients(request)
        try:
            with open_store(db) as store:
                return collect(store, request, clients=clients, clock=clock, progress=progress)
        finally:
            clients.close()
