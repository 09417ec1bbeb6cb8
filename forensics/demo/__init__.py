"""Demo data for `forensics`: a day of netra-staging logs and metrics with planted incidents.

`generate_entries` streams Cloud Logging v2 REST JSON entries, `write_export` writes them as a
log-sink ndjson or a `gcloud logging read --format=json` array, `generate_time_series` returns
Cloud Monitoring v3 REST JSON time series, and `scenario` is the ground truth for all of them.
"""

from forensics.demo.metrics import generate_time_series
from forensics.demo.model import (
    DEMO_PROJECT,
    PlantedDeploy,
    PlantedIncident,
    Scenario,
    scenario,
)
from forensics.demo.stream import generate_entries, planted_entry_count, write_export

__all__ = [
    "DEMO_PROJECT",
    "PlantedDeploy",
    "PlantedIncident",
    "Scenario",
    "generate_entries",
    "generate_time_series",
    "planted_entry_count",
    "scenario",
    "write_export",
]
