"""Ground-truth scenarios: failures written as data, rendered as entries, checked against analysis.

A scenario (``tests/scenarios/*.yaml``) describes one window of a staging project in words an
on-call engineer uses: services and their traffic, failures with their causes and timing,
deploys, fixes, metric behaviour and how the data was collected, and next to it the answer a
person would give (incidents, causes, attribution, impact, issue statuses, checks).

Usage:
  1. ``load_scenario(path)`` reads and validates one file (errors name the file and key).
  2. ``render(scenario)`` turns it into Cloud Logging entries and Monitoring series; it shares
     nothing with the demo generator, so the analysis is checked on data nobody tuned it to.
  3. ``run_scenario(scenario, workdir)`` loads them into a real store through the public paths
     (``ingest`` of NDJSON exports, or the collectors against the emulator on 127.0.0.1),
     runs ``forensics analyze --json`` and ``forensics report``, and compares every expected
     fact: ``ScenarioResult.matched`` / ``.mismatched``.
"""

from forensics.scenarios.check import FactResult, ScenarioResult, expected_facts
from forensics.scenarios.harness import run_scenario
from forensics.scenarios.model import Scenario, load_scenario, scenario_paths
from forensics.scenarios.render import Rendered, render

__all__ = [
    "FactResult",
    "Rendered",
    "Scenario",
    "ScenarioResult",
    "expected_facts",
    "load_scenario",
    "render",
    "run_scenario",
    "scenario_paths",
]
