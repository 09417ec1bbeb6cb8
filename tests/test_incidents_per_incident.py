"""The incidents stage's one-pass reads give what a polars call per incident gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import polars as pl

from forensics.incidents.chain import causal_chain
from forensics.incidents.correlate import _per_incident, _tagged
from forensics.incidents.evidence import IDENTITY

T0 = datetime(2025, 9, 16, tzinfo=UTC)


def _frame(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(seconds=i // 2) for i in range(n)],
            "log_name": ["run" if i % 3 else "sql" for i in range(n)],
            "insert_id": [f"id{i // 2}" for i in range(n)],  # two rows (matches) per line
            "signature": [f"sig{i % 4}" for i in range(n)],
        }
    )


def test_per_incident_rows_equal_a_semi_join_per_incident() -> None:
    matches = _frame(40)
    groups = [
        matches.slice(0, 10),
        matches.slice(6, 12),  # shares lines with the first (a dependency joined to two hosts)
        matches.clear(),  # a signal-only incident: no lines
        pl.concat([matches.slice(30, 4), matches.slice(30, 4)]),  # duplicate identities
    ]
    got = _per_incident(matches, _tagged(groups), len(groups))
    assert len(got) == len(groups)
    for rows, part in zip(groups, got, strict=True):
        expected = matches.join(rows.select(IDENTITY), on=IDENTITY, how="semi")
        assert part.columns == matches.columns
        assert part.equals(expected)


def _links_by_pivot(lines: pl.DataFrame, chain: list[str]) -> list[dict[str, object]]:
    """The links as they were computed before: a pivot per link."""
    per_instance = (
        lines.filter(pl.col("instance_id").is_not_null())
        .group_by("instance_id", "signature")
        .agg(pl.col("timestamp").min())
    )
    links = []
    for a, b in pairwise(chain):
        pair = per_instance.filter(pl.col("signature").is_in([a, b])).pivot(
            on="signature", index="instance_id", values="timestamp"
        )
        both = pair.drop_nulls() if {a, b} <= set(pair.columns) else pair.clear()
        in_order = both.filter(pl.col(a) <= pl.col(b)).height if both.height else 0
        links.append({"from": a, "to": b, "instances": both.height, "in_order": in_order})
    return links


def test_chain_links_equal_the_pivot_per_link() -> None:
    rows = [
        # (seconds, signature, instance): i1 sees a, b, c in order; i2 sees b before a;
        # i3 a and b at the same instant; i4 only c; a line with no instance
        (0, "a", "i1"),
        (1, "b", "i1"),
        (2, "c", "i1"),
        (5, "a", "i2"),
        (3, "b", "i2"),
        (4, "a", "i3"),
        (4, "b", "i3"),
        (9, "c", "i4"),
        (1, "d", None),
        (7, "a", "i1"),
    ]
    lines = pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(seconds=s) for s, _, _ in rows],
            "signature": [sig for _, sig, _ in rows],
            "instance_id": [inst for _, _, inst in rows],
        }
    )
    signals = [("cpu_high", T0 + timedelta(seconds=2))]
    chain, links = causal_chain(lines, signals, {})
    assert len(chain) == 5
    assert links == _links_by_pivot(lines, chain)
    assert any(link["instances"] > 1 for link in links)
