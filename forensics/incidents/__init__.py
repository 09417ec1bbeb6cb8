"""Incidents and issue status from evidence: causal chains, deploy markers, the issue registry.

Public API:
  - ``build_analysis(store, window, *, registry=None) -> dict``: the stable JSON shape
    (window, issues, incidents, deploys, drift, checks, ...); issues contradictions first.
  - ``analyze_incidents(store, window, *, registry=None) -> Analysis``: the same as dataclasses
    (``IssueStatus``, ``Incident``, ``DeployMarker``, ``Drift``, ``Check``; each ``.as_dict()``).
  - ``load_registry(user_file=None) -> Registry``: patterns/issues.yaml plus the user's file.
"""

from forensics.incidents.build import Analysis, analyze_incidents, build_analysis
from forensics.incidents.model import (
    STATUSES,
    Check,
    DeployMarker,
    Drift,
    EvidenceLine,
    Incident,
    IssueStatus,
)
from forensics.incidents.registry import FixClaim, Registry, TrackedIssue, load_registry

__all__ = [
    "STATUSES",
    "Analysis",
    "Check",
    "DeployMarker",
    "Drift",
    "EvidenceLine",
    "FixClaim",
    "Incident",
    "IssueStatus",
    "Registry",
    "TrackedIssue",
    "analyze_incidents",
    "build_analysis",
    "load_registry",
]
