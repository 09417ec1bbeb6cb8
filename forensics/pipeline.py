"""The one owner of the analysis pipeline: catalog and registry, classification, the model.

Usage:
  1. ``sources = Sources.load(issues_file)`` loads the signature catalog and the issue registry
     once; everything downstream takes them from here.
  2. Writers (ingest, collect, `forensics patterns apply`) call ``classify_pending(store,
     sources)``: every ingest run not yet classified with this catalog version is classified
     and marked in ``classified_runs``, so an unchanged store classifies nothing.
  3. Readers (analyze, report, incidents, issues, snapshot, diff, watch) open the store with
     ``open_for_reading(path)`` (read-only) and call ``build_model(store, window, sources)``.
     They never write classification. When some runs are not classified with the current
     catalog (the catalog changed since, or an older store), those runs are classified into a
     temporary, in-memory ``signature_matches`` that shadows the stored one for this
     connection only: the answer uses one catalog version throughout, nothing is saved, and
     ``Classification.note()`` says so in one line.
The library never imports forensics.cli.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from forensics.analysis import TOP_ERRORS, AnalysisModel
from forensics.derived import store_pending
from forensics.derived_tables import derived_tables, stale_tables
from forensics.incidents.build import analyze_incidents
from forensics.incidents.classified import current_catalog
from forensics.incidents.registry import Registry, load_registry
from forensics.signatures import Catalog, load_catalog
from forensics.signatures.classify_runs import classify_runs
from forensics.signatures.mining import mine_templates
from forensics.signatures.summary import with_attributed_issues
from forensics.sql import run_named
from forensics.store import Store, default_db_path, open_store
from forensics.timeutil import Window

__all__ = [
    "Classification",
    "Sources",
    "build_model",
    "classify_pending",
    "forget_reading",
    "open_for_reading",
    "prepare_reading",
    "stale_runs",
]


@dataclass(frozen=True)
class Sources:
    """What the analysis reads besides the store: the signature catalog and the issue registry."""

    catalog: Catalog
    registry: Registry

    @classmethod
    def load(cls, issues_file: Path | None = None, patterns: Path | None = None) -> Sources:
        """The catalog (default patterns/), and the registry with the user's file."""
        catalog = load_catalog(patterns) if patterns is not None else current_catalog()
        return cls(catalog, load_registry(issues_file))

    @classmethod
    def with_registry(cls, registry: Registry) -> Sources:
        """The current catalog with a registry the caller already loaded."""
        return cls(current_catalog(), registry)


@dataclass(frozen=True)
class Classification:
    """How the store's classification stood for one answer."""

    catalog_version: str
    stale_runs: tuple[int, ...] = ()  # runs not classified with this catalog in the store
    saved: bool = False  # the stale runs were classified and saved (a writer)
    in_memory: bool = False  # ... classified for this answer only (a reader)
    # per-run tables (derived_tables) without current rows for some runs: a reader computes
    # them from the entries for its answer (their SQL changed since the store was written, or
    # it is older); a writer saved them
    stale_tables: tuple[str, ...] = ()
    stale_table_runs: int = 0  # runs without current rows in the most stale of them
    tables_saved: bool = False  # a writer saved those rows

    def note(self) -> str | None:
        """One line when the answer's classification is not the stored one."""
        if not self.in_memory:
            return None
        runs = len(self.stale_runs)
        return (
            f"{runs} ingest run{'s' if runs != 1 else ''} not classified with catalog "
            f"{self.catalog_version} in the store: classified in memory for this answer, "
            "not saved (`forensics patterns apply` saves it)"
        )

    def tables_note(self) -> str | None:
        """One line when per-run tables are computed from the entries for this answer."""
        if not self.stale_tables or self.tables_saved:
            return None
        runs = self.stale_table_runs
        return (
            f"per-run tables not current for {runs} ingest run{'s' if runs != 1 else ''} "
            f"({', '.join(self.stale_tables)}): computed from the entries for every answer "
            "until `forensics patterns apply` (or the next ingest) saves them"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "catalog_version": self.catalog_version,
            "stale_runs": list(self.stale_runs),
            "saved": self.saved,
            "in_memory": self.in_memory,
            "note": self.note(),
        }  # not the per-run tables read from the entries: the answer is the same either way


def _has_table(store: Store, name: str) -> bool:
    found = store.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND NOT temporary",
        {"name": name},
    )
    return bool(found)


def stale_runs(store: Store, version: str) -> list[int]:
    """Ingest runs whose entries are not (all) classified with catalog ``version``."""
    if not _has_table(store, "classified_runs"):  # a store older than the marks, read-only
        frame = store.query(
            "SELECT ingest_id FROM ingest_runs WHERE accepted > 0 ORDER BY ingest_id"
        )
        return [int(i) for i in frame["ingest_id"].to_list()]
    runs = set(run_named(store, "store_unclassified_ingests", {"version": version})["ingest_id"])
    other = store.scalar(
        "SELECT count(*) FROM signature_matches WHERE catalog_version <> $version",
        {"version": version},
    )
    if other:  # only then is the join worth it
        mixed = run_named(store, "store_mixed_version_ingests", {"version": version})
        runs |= set(mixed["ingest_id"])
    return sorted(int(i) for i in runs)


# DuckDB's buffer pool while classifying. The working set is small (the scope streams: only
# the gated rows and the traceback chunks are held), so what fills the pool is cached blocks
# of the run's entries, which grow with the run: under a 2 GB cap a 10M-entry run reached
# 1.6 GB RSS. Capped at 768 MB, the same run stays under 0.9 GB at the same CPU time. What
# classification and the per-run tables wrote is checkpointed under the cap too: left to the
# checkpoint at close, under DuckDB's default limit (80 % of RAM), a 10M-entry ingest with 2
# threads peaked there at 4.2 GB RSS, against 0.99 GB checkpointed under the cap.
CLASSIFY_MEMORY_LIMIT = "768MB"


@contextmanager
def _classify_memory(store: Store) -> Iterator[None]:
    """Cap DuckDB's memory while classifying and checkpointing what it wrote (unless the
    connection's settings are locked)."""
    if store.scalar("SELECT current_setting('lock_configuration')"):
        yield
        return
    previous = store.scalar("SELECT current_setting('memory_limit')")
    store.conn.execute(f"SET memory_limit = '{CLASSIFY_MEMORY_LIMIT}'")
    try:
        yield
        store.conn.execute("CHECKPOINT")
    finally:
        store.conn.execute(f"SET memory_limit = '{previous}'")


def classify_pending(store: Store, sources: Sources | Catalog) -> Classification:
    """Classify and mark every ingest run not classified with the catalog (writers only)."""
    catalog = sources.catalog if isinstance(sources, Sources) else sources
    forget_reading(store)  # write the store's own matches, never a reader's shadow
    pending = stale_runs(store, catalog.version)
    with _classify_memory(store):
        classify_runs(store, catalog, pending)
        written = {  # per-run rows (forensics.derived): the tables some run lacked, saved
            d.table: len(runs)
            for d in derived_tables(catalog.version)
            if (runs := store_pending(store, d))
        }
    return Classification(
        catalog.version,
        tuple(pending),
        saved=bool(pending),
        stale_tables=tuple(written),
        stale_table_runs=max(written.values(), default=0),
        tables_saved=True,
    )


_READING = "_forensics_reading"  # TEMP: which catalog this connection's shadow was built for


def prepare_reading(store: Store, sources: Sources | Catalog) -> Classification:
    """Make this connection read matches of the current catalog only, writing nothing.

    Up to date: nothing to do. Otherwise a TEMP ``signature_matches`` (this connection only)
    takes the stored matches of the current version and the stale runs classified afresh.
    Calling it again on the same connection costs one small query.
    """
    catalog = sources.catalog if isinstance(sources, Sources) else sources
    tables, table_runs = stale_tables(store, catalog.version)
    last_run = store.scalar("SELECT coalesce(max(ingest_id), 0) FROM ingest_runs")
    if _has_temp(store, _READING):
        row = store.conn.execute(
            f"SELECT catalog_version, last_run, runs FROM {_READING}"
        ).fetchone()
        if row and row[0] == catalog.version and row[1] == last_run:
            runs = tuple(int(r) for r in row[2])
            return Classification(
                catalog.version,
                runs,
                in_memory=bool(runs),
                stale_tables=tables,
                stale_table_runs=table_runs,
            )
    forget_reading(store)  # read the stored matches afresh
    pending = stale_runs(store, catalog.version)
    if pending:
        database = store.scalar("SELECT current_database()")
        stored = f'"{database}".main.signature_matches'
        store.conn.execute(
            f"CREATE OR REPLACE TEMP TABLE signature_matches AS "
            f"SELECT * FROM {stored} WHERE catalog_version = $version",
            {"version": catalog.version},
        )
        with _classify_memory(store):
            classify_runs(store, catalog, pending, mark=False)
    store.conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {_READING} AS SELECT $version AS catalog_version, "
        "$last_run::BIGINT AS last_run, $runs::BIGINT[] AS runs",
        {"version": catalog.version, "last_run": last_run, "runs": pending},
    )
    return Classification(
        catalog.version,
        tuple(pending),
        in_memory=bool(pending),
        stale_tables=tables,
        stale_table_runs=table_runs,
    )


def forget_reading(store: Store) -> None:
    """Drop this connection's in-memory classification, so it reads and writes the stored one."""
    store.conn.execute("DROP TABLE IF EXISTS temp.signature_matches")
    store.conn.execute(f"DROP TABLE IF EXISTS temp.{_READING}")


def _has_temp(store: Store, name: str) -> bool:
    found = store.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND temporary",
        {"name": name},
    )
    return bool(found)


@contextmanager
def open_for_reading(path: Path | str | None = None) -> Iterator[Store]:
    """Open the store read-only (a store that does not exist yet reads as an empty one)."""
    db = Path(path) if path is not None else default_db_path()
    if str(db) != ":memory:" and not db.exists():
        with open_store(":memory:") as empty:
            yield empty
        return
    with open_store(db, read_only=True) as store:
        _shadow_missing_tables(store)
        yield store


def _shadow_missing_tables(store: Store) -> None:
    """A store written by an older version lacks newer tables, or holds per-run tables of an
    older layout: read them as empty (TEMP)."""
    from forensics.errors import StoreError
    from forensics.schema import ENTRIES_VIEW, TABLES, changed_layouts
    from forensics.store_macros import SESSION_TABLES, session_ddl

    present = set(
        store.query("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")["table_name"]
    )
    if "log_entries" not in present:
        raise StoreError(
            f"{store.path}: not a forensics store (no log_entries table); "
            "run `forensics ingest` or `make demo` to make one"
        )
    # per-run tables of an older layout read as empty: their runs' rows are computed from the
    # entries (forensics.schema.PER_RUN_TABLES)
    shadowed = set(changed_layouts(store.conn))
    for table, columns in TABLES.items():
        if table not in present or table in shadowed:
            body = ", ".join(f'"{c.name}" {_temp_type(c.sql_type)}' for c in columns)
            store.conn.execute(f"CREATE TEMP TABLE {table} ({body})")
    views = set(store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")["view_name"])
    if "entries" not in views:
        store.conn.execute(ENTRIES_VIEW.replace("CREATE OR REPLACE VIEW", "CREATE TEMP VIEW"))
    if shadowed or not present >= SESSION_TABLES:  # else open_store made them
        for statement in session_ddl():  # now that every table they read exists
            store.conn.execute(statement)


def _temp_type(sql_type: str) -> str:
    """The column type without constraints that need the real table (defaults stay)."""
    return sql_type.replace("PRIMARY KEY", "").strip()


def _cite(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"query": name, "params": {k: str(v) for k, v in sorted(params.items())}}


def build_model(
    store: Store,
    window: Window,
    sources: Sources,
    *,
    report: bool = False,
    project: str | None = None,
    examples_per_signature: int | None = None,
    recent_since: datetime | None = None,
) -> AnalysisModel:
    """The analysis of ``window``, computed once (reads the store, never writes it).

    Args:
        store: an open store (read-only is enough).
        window: the period to analyse.
        sources: catalog and registry (``Sources.load``).
        report: also read what only reports show (postmortems, impact, chart, examples).
        project: GCP project for the reports' Logs Explorer links (default: the logs').
        examples_per_signature: representative lines per signature in reports.
        recent_since: watch's last interval starts here: the per-signature counts also count
            the entries from it on (``AnalysisModel.signature_totals``).
    """
    classification = prepare_reading(store, sources)
    params = window.params()
    top = {**params, "limit": TOP_ERRORS}
    incidents = analyze_incidents(store, window, registry=sources.registry, catalog=sources.catalog)
    volume = run_named(store, "hour_service_severity_volume", top)
    counted = {**params, "recent_since": recent_since or window.until}
    counts = run_named(store, "hour_service_signature_count", counted)
    model = AnalysisModel(
        window=window,
        catalog_version=sources.catalog.version,
        classification=classification,
        incidents=incidents,
        entries_in_window=int(volume["n"].sum()) if not volume.is_empty() else 0,
        volume=volume,
        top_errors=run_named(store, "window_error_messages_top", top),
        store_range=run_named(store, "store_time_range"),
        signature_counts=with_attributed_issues(counts, incidents.evidence),
        signature_services=run_named(store, "window_signature_service_counts", params),
        templates=mine_templates(store, window.since, window.until),
        data_gaps=run_named(store, "window_source_gaps", params),
        signals=run_named(store, "window_signals", params),
        cites={
            name: _cite(name, p)
            for name, p in (
                ("hour_service_severity_volume", top),
                ("window_error_messages_top", top),
                ("store_time_range", {}),
                ("hour_service_signature_count", counted),
                ("window_signature_service_counts", params),
                ("window_source_gaps", params),
                ("window_signals", params),
            )
        },
    )
    if report:
        from forensics.report.model import report_facts

        extra = (
            {}
            if examples_per_signature is None
            else {"examples_per_signature": examples_per_signature}
        )
        model.report = report_facts(
            store,
            window,
            model.report_analysis(),
            sources.catalog,
            counts=model.signature_counts,
            project=project,
            traffic=incidents.traffic,
            markers=model.incidents,
            **extra,
        )
    return model
