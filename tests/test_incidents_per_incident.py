"""The incidents stage's one-pass reads give what a polars call per incident gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import polars as pl

from forensics.incidents.chain import causal_chain
from forensics.incidents.correlate import _issues_of, _per_incident, _tagged
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


def test_issues_of_each_group_equal_a_semi_join_per_group() -> None:
    """Every group's tracked issues from one join: what a semi-join of the evidence per group
    gave (lines shared by groups, a line evidence for two issues, no lines, no evidence)."""
    matches = _frame(40)
    lines = matches.select(IDENTITY).unique(maintain_order=True)
    evidence = pl.concat(
        [
            lines.slice(0, 8).with_columns(pl.lit("#1").alias("issue")),
            lines.slice(5, 6).with_columns(pl.lit("#2").alias("issue")),  # 5-7: both issues
            lines.slice(14, 2).with_columns(pl.lit("#3").alias("issue")),
        ]
    )
    groups = [
        matches.slice(0, 10),
        matches.slice(8, 14),
        matches.clear(),
        pl.concat([matches.slice(30, 4), matches.slice(30, 4)]),  # no evidence; duplicates
        matches.slice(28, 4),
    ]
    expected = [
        set(evidence.join(rows.select(IDENTITY), on=IDENTITY, how="semi")["issue"].to_list())
        for rows in groups
    ]
    assert _issues_of(groups, evidence) == expected
    assert expected[:3] == [{"#1", "#2"}, {"#1", "#2", "#3"}, set()]  # the case is not trivial
    assert _issues_of(groups, evidence.clear()) == [set() for _ in groups]
    assert _issues_of([], evidence) == []


def test_an_islands_split_reads_its_own_symptoms_as_the_windows() -> None:
    """split_by_cause given an island's symptoms (_per_incident of the window's, one join for
    every island) splits it as given the window's symptoms (a join of all with each island)."""
    from forensics.incidents.split import split_by_cause

    def lines(ids: range, signatures: list[str]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "timestamp": [T0 + timedelta(seconds=i) for i in ids],
                "log_name": ["run"] * len(ids),
                "insert_id": [f"id{i}" for i in ids],
                "signature": [signatures[i % len(signatures)] for i in ids],
                "instance_id": [f"inst{i % 3}" for i in ids],
            }
        )

    islands = [lines(range(0, 12), ["oom", "pool", "5xx"]), lines(range(20, 26), ["5xx"])]
    everything = pl.concat(islands)
    symptoms = everything.filter(pl.col("signature") == "5xx").select(
        *IDENTITY,
        pl.when(pl.col("insert_id").str.contains("[02468]$"))
        .then(pl.lit("oom"))
        .otherwise(pl.lit("pool"))
        .alias("cause"),
    )
    issues = {"oom": ["#131"], "pool": ["#1278"]}
    own = _per_incident(symptoms, _tagged(islands), len(islands))
    for island, mine in zip(islands, own, strict=True):
        whole = split_by_cause(island, symptoms, {"5xx"}, lambda k: issues.get(k, []))
        alone = split_by_cause(island, mine, {"5xx"}, lambda k: issues.get(k, []))
        assert [p.to_dicts() for p in alone] == [p.to_dicts() for p in whole]
    assert len(split_by_cause(islands[0], own[0], {"5xx"}, lambda k: issues.get(k, []))) == 2
