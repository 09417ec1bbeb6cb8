"""Group a window's signature matches and metric signals into incidents per service.

Usage:
  ``build_incidents(store, window, context)`` where ``context`` carries the registry, catalog
  facts, every match, the symptom attribution and the issue evidence. Steps:
  1. queries/window_match_islands.sql numbers the primary matches into islands per service
     (a gap longer than ``incident_gap_minutes`` starts a new one);
  2. islands of a service that share an instance or a trace are one incident, and one whose
     failures have no tracked issue in common splits (split.py);
  3. Cloud SQL and connector islands join the Cloud Run incidents they overlap when both are
     evidence for the same issue (the database side of #1278); signals join the same way;
  4. each incident gets its chain (chain.py), attributed symptoms and cause (cause.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import polars as pl

from forensics.incidents.attribution import cause_lines, named_error_causes, symptom_attribution
from forensics.incidents.cause import root_cause
from forensics.incidents.chain import causal_chain
from forensics.incidents.evidence import IDENTITY, cause_texts, fetch_lines
from forensics.incidents.model import EvidenceLine, Incident
from forensics.incidents.registry import Registry
from forensics.incidents.split import split_by_cause
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["IncidentContext", "build_incidents", "symptom_attribution"]

MAX_EVIDENCE_LINES = 10


@dataclass
class IncidentContext:
    """What incidents are built from (all computed once per analysis)."""

    registry: Registry
    ranks: dict[str, int]
    titles: dict[str, str]
    matches: pl.DataFrame  # every match, primary and secondary
    symptoms: pl.DataFrame  # attribution of every symptom
    evidence: pl.DataFrame  # (issue, line) pairs
    signals: pl.DataFrame


@dataclass
class _Group:
    service: str
    rows: pl.DataFrame
    dependency: bool
    issues: set[str]
    signals: list[dict[str, Any]] = field(default_factory=list)
    related: list[str] = field(default_factory=list)

    @property
    def start(self) -> Any:
        """The first failure evidence: a log line; a metric signal only when there is none."""
        if not self.rows.is_empty():
            return self.rows["timestamp"].min()
        return min(s["start"] for s in self.signals)

    @property
    def end(self) -> Any:
        """The last failure evidence. Signals annotate an incident but never extend it: a
        connector that never scales in, or a metric still high at the window's end, would
        otherwise keep it open for hours and swallow the next incident."""
        if not self.rows.is_empty():
            return self.rows["timestamp"].max()
        return max(s["end"] for s in self.signals)


def _merged_islands(islands: pl.DataFrame) -> pl.DataFrame:
    """Islands of one service that share an instance or a trace become one group."""
    parent = {i: i for i in islands["island"].unique().to_list()}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for column in ("instance_id", "trace"):
        shared = (
            islands.filter(pl.col(column).is_not_null() & (pl.col(column) != ""))
            .group_by("service", column)
            .agg(pl.col("island").unique())
        )
        for members in shared["island"].to_list():
            for other in members[1:]:
                parent[find(other)] = find(members[0])
    return islands.with_columns(
        pl.col("island").replace_strict({k: find(k) for k in parent}).alias("group")
    )


def _issues_of(frames: list[pl.DataFrame], evidence: pl.DataFrame) -> list[set[str]]:
    """Each frame's tracked issues (the issues its lines are evidence for): one join of the
    evidence with every frame's tagged identities (_tagged), not a semi-join per frame (a wide
    fleet's day has tens of groups). O(e + r) for e evidence rows and r frame rows."""
    out: list[set[str]] = [set() for _ in frames]
    if not frames or evidence.is_empty():
        return out
    hits = evidence.select(*IDENTITY, "issue").join(_tagged(frames), on=IDENTITY, how="inner")
    for i, issue in hits.select("incident", "issue").unique().iter_rows():
        out[i].add(issue)
    return out


def _overlaps(group: _Group, start: Any, end: Any, gap: timedelta) -> bool:
    return bool(start <= group.end + gap and end >= group.start - gap)


def _signal_issues(registry: Registry) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for issue in registry.issues:
        for signal in issue.signals:
            out.setdefault(signal, []).append(issue.id)
    return out


def _groups(store: Store, window: Window, ctx: IncidentContext) -> list[_Group]:
    gap = timedelta(minutes=ctx.registry.settings.incident_gap_minutes)
    numbered = run_named(
        store, "window_match_islands", {**window.params(), "gap_s": gap.total_seconds()}
    )
    # the entry facts (service, revision, instance, resource type) come with the matches
    primary = ctx.matches.filter(pl.col("is_primary")).drop("is_primary", "log_id")
    islands = primary.join(numbered, on=IDENTITY)
    parts: list[tuple[pl.DataFrame, bool]] = []  # each group's rows, and if a dependency's
    if not islands.is_empty():
        symptom_ids = set(ctx.registry.symptoms())
        merged = [i for _, i in _merged_islands(islands).group_by("group", maintain_order=True)]
        # each island's attributed symptoms by one join (not the window's with every island)
        symptoms = _per_incident(ctx.symptoms, _tagged(merged), len(merged))
        for n, island in enumerate(merged):
            dependency = "cloud_run_revision" not in set(island["resource_type"].to_list())
            # overlapping failures with no issue in common are separate incidents
            for rows in split_by_cause(
                island, symptoms[n], symptom_ids, ctx.registry.issues_of_cause
            ):
                parts.append((rows, dependency))
    tracked = _issues_of([rows for rows, _ in parts], ctx.evidence)
    groups = [
        _Group(rows["service"][0], rows, dependency, tracked[i])
        for i, (rows, dependency) in enumerate(parts)
    ]
    run_groups = [g for g in groups if not g.dependency]
    kept = list(run_groups)
    for dep in (g for g in groups if g.dependency):
        hosts = [
            g for g in run_groups if g.issues & dep.issues and _overlaps(g, dep.start, dep.end, gap)
        ]
        for host in hosts:
            host.rows = pl.concat([host.rows, dep.rows]).sort("timestamp")
            host.related.append(dep.service)
        if not hosts:
            kept.append(dep)
    by_signal = _signal_issues(ctx.registry)
    active = ctx.signals.filter((pl.col("start") < window.until) & (pl.col("end") >= window.since))
    # log-evidence groups are fixed before any signal is attached: a signal joins the ones whose
    # span it overlaps (from a gap before their first line to their last), and moves no bound
    logged = list(kept)
    for signal in active.sort("start").to_dicts():
        issues = set(by_signal.get(signal["signal"], []))
        # a signal of one issue does not annotate another issue's incident on its service
        hosts = [
            g
            for g in logged
            if (g.issues & issues or (g.service == signal["service"] and not (g.issues and issues)))
            and signal["start"] <= g.end
            and signal["end"] >= g.start - gap
        ]
        for host in hosts:
            host.signals.append(signal)
            host.issues |= issues
        # a signal with no log evidence is an incident of its own only when it ended in the
        # window: an open-ended state (still on at the window's end) is context, not a failure
        if not hosts and signal["end"] < window.until - gap:
            alone = _Group(
                signal["service"] or "(unknown)", islands.clear(), False, issues, [signal]
            )
            kept.append(alone)
    return sorted(kept, key=lambda g: (g.start, g.service))


def _ranked(values: list[Any]) -> list[str]:
    return [v for v, _ in Counter(v for v in values if v).most_common()]


@dataclass
class _Draft:
    """An incident before its cited lines are read (every incident's in one join)."""

    group: _Group
    chain: list[str]
    links: list[dict[str, Any]]
    symptoms: pl.DataFrame
    firsts: pl.DataFrame
    texts: dict[str, str]
    attribution: dict[str, dict[str, int]]
    wanted: pl.DataFrame  # the identities of the lines it cites


def _per_incident(frame: pl.DataFrame, tagged: pl.DataFrame, n: int) -> list[pl.DataFrame]:
    """``frame``'s rows of each of the ``n`` incidents, in ``frame``'s order: one join with
    ``tagged`` (unique identities, each with its incident's number) and one partition, not a
    semi-join per incident. O(f + t) for f rows and t tagged identities."""
    joined = frame.join(tagged, on=IDENTITY, how="inner", maintain_order="left")
    parts = joined.partition_by("incident", as_dict=True, include_key=False)
    empty = frame.clear()
    return [parts.get((i,), empty) for i in range(n)]


def _tagged(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Each frame's distinct identities with its position as ``incident``."""
    return pl.concat(
        [
            f.select(IDENTITY).unique().with_columns(pl.lit(i, pl.UInt32).alias("incident"))
            for i, f in enumerate(frames)
        ]
    )


def _draft(
    group: _Group,
    ctx: IncidentContext,
    texts: dict[str, str],
    lines: pl.DataFrame,
    symptoms: pl.DataFrame,
) -> _Draft:
    """One incident's chain, attribution and wanted lines; ``texts`` holds the cause texts of
    every incident (read in one query), ``lines`` and ``symptoms`` its matches and attributed
    symptoms (_per_incident)."""
    # the chain holds the signals that began with the incident (from a gap before its first
    # line); one already on long before it is listed in ``signals`` as context, not as a link
    lead = timedelta(minutes=ctx.registry.settings.incident_gap_minutes)
    chain, links = causal_chain(
        lines,
        [(s["signal"], s["start"]) for s in group.signals if s["start"] >= group.start - lead],
        ctx.ranks,
    )
    firsts = lines.sort("timestamp", "is_primary", descending=[False, True]).unique(
        "signature", keep="first", maintain_order=True
    )
    wanted = [firsts.select(IDENTITY)]
    located = cause_lines(symptoms)
    errors = located.filter(pl.col("cause_kind") == "error").drop("cause_kind")
    # every cause line's exception text: an error's name, and a signature's exception line
    own = set(located["insert_id"].to_list())
    texts = {k: v for k, v in texts.items() if k in own}
    symptoms = named_error_causes(symptoms, texts)
    attribution = symptom_attribution(symptoms)
    if errors.height:
        wanted.append(errors)
    return _Draft(group, chain, links, symptoms, firsts, texts, attribution, pl.concat(wanted))


def _incident(draft: _Draft, ctx: IncidentContext, fetched: pl.DataFrame) -> Incident:
    """The incident of ``draft``; ``fetched`` holds its lines (fetch_lines of its wanted)."""
    group, rows, chain, symptoms = draft.group, draft.group.rows, draft.chain, draft.symptoms
    texts = draft.texts
    messages = {**dict(zip(fetched["insert_id"], fetched["message"], strict=True)), **texts}
    registry = ctx.registry
    cause_issues = {s: registry.issues_of_cause(s) for s in ctx.titles}
    cause_issues.update(_signal_issues(registry))
    symptom_issues = {s: [i.id for i in registry.issues if s in i.symptoms] for s in ctx.titles}
    root, sentence = root_cause(
        chain,
        symptoms,
        set(registry.symptoms()),
        ctx.titles,
        cause_issues,
        symptom_issues,
        messages,
    )
    evidence = _evidence_lines(draft.firsts, fetched, root)
    order = {i.id: n for n, i in enumerate(registry.issues)}
    per_minute = (
        rows.group_by(pl.col("timestamp").dt.truncate("1m"))
        .len()
        .sort("len", "timestamp", descending=[True, False])
    )
    peak, peak_n = per_minute.row(0) if per_minute.height else (group.start, 0)
    start = group.start
    return Incident(
        id=f"{start:%Y%m%dT%H%M%SZ}-{group.service}",
        service=group.service,
        start=start,
        end=group.end,
        peak=peak,
        peak_per_minute=int(peak_n),
        chain=chain,
        issues=sorted(group.issues, key=lambda i: order.get(i, 99)),
        signatures=dict(
            rows.group_by("signature")
            .len()
            .sort("len", "signature", descending=[True, False])
            .iter_rows()
        ),
        revisions=_ranked(rows["revision"].to_list()),
        instances=_ranked(rows["instance_id"].to_list()),
        evidence=evidence,
        cause=sentence,
        root_cause=root,
        links=draft.links,
        attribution=draft.attribution,
        signals=[
            {k: s[k] for k in ("signal", "service", "start", "end", "peak", "threshold")}
            for s in group.signals
        ],
        related_services=sorted(set(group.related)),
    )


def _evidence_lines(
    firsts: pl.DataFrame, fetched: pl.DataFrame, root: dict[str, Any]
) -> list[EvidenceLine]:
    facts = {r["insert_id"]: r for r in fetched.to_dicts()}
    out = []
    if root.get("kind") == "error" and root.get("insert_id") in facts:
        r = facts[root["insert_id"]]
        out.append(
            EvidenceLine(
                r["insert_id"],
                r["timestamp"],
                r["revision"],
                str(root["id"]),
                r["message"] or "",
                r["instance_id"],
                r["log_name"],
            )
        )
    for r in firsts.sort("timestamp").to_dicts():
        fact = facts.get(r["insert_id"], {})
        out.append(
            EvidenceLine(
                r["insert_id"],
                r["timestamp"],
                r["revision"],
                r["signature"],
                fact.get("message") or "",
                r["instance_id"],
                r["log_name"],
            )
        )
    return sorted(out, key=lambda e: e.timestamp)[:MAX_EVIDENCE_LINES]


def build_incidents(store: Store, window: Window, ctx: IncidentContext) -> list[Incident]:
    """The window's incidents, oldest first.

    Cost: the window's matches in DuckDB (window_match_islands); each island's attributed
    symptoms and each group's tracked issues by one join with all islands' (groups') tagged
    line identities (O(s + e + m), not the window's symptoms and evidence joined with every
    island and group: O(islands x s)); then every incident's
    matches, attributed symptoms and cited lines in one join each with all incidents' line
    identities, tagged by incident and partitioned (O(m + s + r) for the window's m matches,
    s symptoms and the incidents' r lines, not a semi-join per incident: a wide fleet's day
    has tens of incidents); every incident line lies in the window, so the look-back's rows
    are left out once. The cause texts and the cited lines are read in one query each. What
    stays per incident is small: its chain, first lines, attribution and sentence.
    """
    inside = (pl.col("timestamp") >= window.since) & (pl.col("timestamp") < window.until)
    ctx = replace(
        ctx,
        matches=ctx.matches.filter(inside),
        symptoms=ctx.symptoms.filter(inside),
        evidence=ctx.evidence.filter(inside),
    )
    groups = _groups(store, window, ctx)
    if not groups:
        return []
    n = len(groups)
    tagged = _tagged([g.rows for g in groups])
    texts = cause_texts(store, cause_lines(ctx.symptoms.join(tagged, on=IDENTITY, how="semi")))
    lines = _per_incident(ctx.matches, tagged, n)
    symptoms = _per_incident(ctx.symptoms, tagged, n)
    drafts = [_draft(g, ctx, texts, lines[i], symptoms[i]) for i, g in enumerate(groups)]
    # the lines every incident cites, in one join (a join per incident scanned the entries
    # once per incident: a wide fleet's day has tens of incidents)
    fetched = fetch_lines(store, pl.concat([d.wanted for d in drafts]))
    cited = _per_incident(fetched, _tagged([d.wanted for d in drafts]), n)
    return [_incident(d, ctx, cited[i]) for i, d in enumerate(drafts)]
