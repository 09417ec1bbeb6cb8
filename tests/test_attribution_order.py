"""An incident's attribution has one order, run after run: report.json is the same bytes.

polars' group_by returns groups in no set order, and sorting the counts alone left ties in that
order: on the real export's 2025-08-31 the two symptom signatures (16 lines each) swapped places
between runs of `forensics analyze --out` on the same store.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from forensics.incidents import build_analysis, load_registry
from forensics.incidents.correlate import symptom_attribution
from forensics.ingest import ingest_files
from forensics.store import open_store
from forensics.timeutil import Window
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging


def _expected_order(counts: dict[tuple[str, str | None], int]) -> list[tuple[str, str]]:
    """Signatures by their largest count, then name; causes by count, then name, unattributed
    after named causes on a tie."""
    largest: dict[str, int] = {}
    for (sig, _), n in counts.items():
        largest[sig] = max(largest.get(sig, 0), n)
    sigs = sorted(largest, key=lambda s: (-largest[s], s))
    return [
        (sig, cause or "unattributed")
        for sig in sigs
        for (s, cause), n in sorted(
            counts.items(), key=lambda kv: (-kv[1], kv[0][1] is None, kv[0][1] or "")
        )
        if s == sig
    ]


@pytest.mark.parametrize("seed", range(5))
def test_attribution_order_is_counts_then_names_whatever_the_row_order(seed: int) -> None:
    counts: dict[tuple[str, str | None], int] = {}
    for s in range(8):  # ties everywhere: 8 signatures of 3 lines per cause
        for cause in ("error:OSError", "error:KeyError", None):
            counts[f"area/sig-{s}", cause] = 3
    counts["area/sig-5", "error:TimeoutError"] = 9  # the largest count leads
    rows = [{"signature": s, "cause": c} for (s, c), n in counts.items() for _ in range(n)]
    random.Random(seed).shuffle(rows)
    attribution = symptom_attribution(
        pl.DataFrame(rows, schema={"signature": pl.String, "cause": pl.String})
    )
    got = [(sig, cause) for sig, causes in attribution.items() for cause in causes]
    assert got == _expected_order(counts)
    assert attribution["area/sig-5"]["error:TimeoutError"] == 9


@requires_real_staging
def test_real_day_with_tied_symptoms_has_one_attribution_order(tmp_path: Path) -> None:
    """2025-08-31 of the real export: two symptoms with 16 lines each."""
    with open_store(tmp_path / "real.duckdb") as store:
        ingest_files(store, [REAL_STAGING_ENTRIES])
    window = Window(datetime(2025, 8, 31, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC))
    with open_store(tmp_path / "real.duckdb", read_only=True) as store:
        incidents: list[dict[str, Any]] = build_analysis(
            store, window, registry=load_registry(None)
        )["incidents"]
    tied = [i["attribution"] for i in incidents if len(i["attribution"]) > 1]
    assert tied, "the day no longer has an incident with two symptoms"
    for attribution in tied:
        largest = {sig: max(causes.values()) for sig, causes in attribution.items()}
        assert list(attribution) == sorted(largest, key=lambda s: (-largest[s], s))
