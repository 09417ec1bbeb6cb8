"""A wide fleet's deploys are summarised: bounded lists (failed, then latest) and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.incidents import digest
from forensics.report.postmortem import DEPLOY_LEAD, MAX_DEPLOY_EVENTS, _deploy_events

T0 = datetime(2025, 9, 16, tzinfo=UTC)


def _deploys(n: int, failed_every: int = 0, services: int = 7) -> list[dict[str, Any]]:
    return [
        {
            "time": T0 + timedelta(seconds=30 * i),
            "service": f"svc-{i % services}",
            "kind": "failed" if failed_every and i % failed_every == 0 else "revision",
            "revision": f"svc-{i % services}-{i:05d}-abc",
            "label": f"Rollout {i}",
            "cite": {},
        }
        for i in range(n)
    ]


def test_a_short_list_is_kept_whole() -> None:
    deploys = _deploys(30, failed_every=4)
    assert digest.shown(deploys, 50) == deploys


def test_every_failed_deploy_then_the_latest_in_time_order() -> None:
    deploys = _deploys(5_000, failed_every=500)
    shown = digest.shown(deploys, 50)
    failed = [d for d in deploys if d["kind"] == "failed"]
    assert len(shown) == 50
    assert all(d in shown for d in failed)
    others = [d for d in shown if d["kind"] != "failed"]
    assert others == [d for d in deploys if d["kind"] != "failed"][-len(others) :]
    assert [d["time"] for d in shown] == sorted(d["time"] for d in shown)


def test_counts_cover_every_deploy() -> None:
    deploys = _deploys(5_000, failed_every=500, services=30)
    summary = digest.counts(deploys, 50)
    assert summary["total"] == len(deploys)
    assert summary["left_out"] == len(deploys) - 50
    assert sum(summary["by_kind"].values()) == len(deploys)
    assert summary["by_kind"]["failed"] == sum(d["kind"] == "failed" for d in deploys)
    assert summary["services"] == 30
    assert len(summary["by_service"]) == digest.TOP_SERVICES


def test_a_postmortem_lists_the_nearest_deploys_and_counts_the_rest() -> None:
    deploys = _deploys(2_000)  # one every 30 s: hundreds fall near any incident
    first, last = T0 + timedelta(hours=5), T0 + timedelta(hours=5, minutes=20)
    events, more = _deploy_events(deploys, first, last, None)
    near = [d for d in deploys if first - DEPLOY_LEAD <= d["time"] <= last + DEPLOY_LEAD]
    assert len(events) == MAX_DEPLOY_EVENTS
    assert more == len(near) - MAX_DEPLOY_EVENTS
    # the listed ones lie during the incident, where the nearest are
    assert all(e.time is not None and first <= e.time <= last for e in events)


def test_a_postmortem_with_few_deploys_lists_them_all() -> None:
    deploys = _deploys(2_000)[::120]  # one an hour
    first = T0 + timedelta(hours=5, minutes=10)
    events, more = _deploy_events(deploys, first, first + timedelta(minutes=5), None)
    near = [d for d in deploys if first - DEPLOY_LEAD <= d["time"] <= first + DEPLOY_LEAD]
    assert (len(events), more) == (len(near), 0)
