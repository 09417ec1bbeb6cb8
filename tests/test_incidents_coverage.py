"""Data gaps reach the issue status whatever pull they were recorded under."""

from __future__ import annotations

from datetime import UTC, datetime

from forensics.incidents.coverage import Coverage

SINCE = datetime(2025, 9, 16, tzinfo=UTC)
UNTIL = datetime(2025, 9, 17, tzinfo=UTC)


def _gap(source: str) -> dict[str, object]:
    return {"source": source, "start": SINCE, "end": UNTIL, "reason": "503 after retries"}


def test_gaps_of_split_filters_count_for_their_source() -> None:
    coverage = Coverage(
        SINCE,
        UNTIL,
        {"run": 120, "cloudsql": 40},
        [_gap("logging:netra-staging:run~2"), _gap("logging:netra-staging:cloudsql-other")],
    )
    assert [g["source"] for g in coverage.gaps_for("run")] == ["logging:netra-staging:run~2"]
    assert not coverage.collected("run")  # the whole window is a gap of one of run's pulls
    assert coverage.collected("cloudsql")  # another source's gap does not count
