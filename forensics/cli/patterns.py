"""`forensics patterns list | show | lint | test | new`: look after the signature catalog."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forensics.cli.common import DbOption, IssuesFileOption, JsonOption, db_path, dump_json
from forensics.cli.group import ForensicsTyper
from forensics.console import console, frame_table
from forensics.errors import EXIT_ATTENTION

# The catalog, the registry and polars are imported inside each command: --help stays instant.
if TYPE_CHECKING:
    from forensics.incidents.registry import Registry
    from forensics.signatures import Catalog

__all__ = ["PatternsOption", "app"]

PatternsOption = Annotated[
    Path | None,
    typer.Option(
        "--patterns",
        envvar="FORENSICS_PATTERNS_DIR",
        help="Pattern catalog directory (default: $FORENSICS_PATTERNS_DIR or bundled patterns/).",
        show_default=False,
    ),
]

app = ForensicsTyper(
    name="patterns",
    help="Look after the failure-signature catalog (patterns/<area>/<slug>.yml).",
    no_args_is_help=True,
)


def _registry(catalog: Catalog, issues_file: Path | None) -> Registry:
    """The registry that goes with the catalog: the one place that links signatures to issues."""
    from forensics.incidents.registry import load_registry
    from forensics.incidents.registry_lint import registry_file_for

    return load_registry(issues_file, base_file=registry_file_for(catalog.directory))


@app.command("list")
def list_(
    glob: Annotated[str, typer.Argument(help="Id glob, e.g. 'cloudrun/*'.")] = "*",
    as_json: JsonOption = False,
    patterns: PatternsOption = None,
    issues_file: IssuesFileOption = None,
) -> None:
    """List signatures in precedence order (the first that matches an entry is its primary).

    The issues each one is evidence or a symptom of come from the issue registry
    (patterns/issues.yaml), the one place that says so.

    Example:
        forensics patterns list 'cloudsql/*'
    """
    import polars as pl

    from forensics.signatures import load_catalog

    catalog = load_catalog(patterns)
    registry = _registry(catalog, issues_file)
    rank = {s.id: i + 1 for i, s in enumerate(catalog.signatures)}
    rows: list[dict[str, Any]] = []
    for s in catalog.select(glob):
        links = registry.links(s.id)
        rows.append(
            {
                "precedence": rank[s.id],
                "id": s.id,
                "level": s.level,
                "status": s.status,
                "issues": list(links.evidence_of),
                "symptom_of": list(links.symptom_of),
                "examples": len(s.examples_match) + len(s.examples_no_match),
                "title": s.title,
            }
        )
    if as_json:
        print(dump_json({"catalog_version": catalog.version, "signatures": rows}))
        return
    shown = [
        {**r, "issues": ", ".join(r["issues"]), "symptom_of": ", ".join(r["symptom_of"])}
        for r in rows
    ]
    console.print(frame_table(pl.DataFrame(shown), f"Signatures (catalog {catalog.version})"))


@app.command()
def show(
    signature_id: Annotated[str, typer.Argument(help="Signature id, e.g. startup/exit-code-3.")],
    as_json: JsonOption = False,
    patterns: PatternsOption = None,
    issues_file: IssuesFileOption = None,
) -> None:
    """Show one signature: its file, its Cloud Logging filter, the collector's pushdown of it and
    its compiled SQL condition.

    Example:
        forensics patterns show startup/exit-code-3
    """
    from forensics.signatures import load_catalog
    from forensics.signatures.predicates import condition_sql

    catalog = load_catalog(patterns)
    sig = catalog.get(signature_id)
    links = _registry(catalog, issues_file).links(sig.id)
    info = {
        "id": sig.id,
        "title": sig.title,
        "status": sig.status,
        "level": sig.level,
        "issues": list(links.evidence_of),
        "symptom_of": list(links.symptom_of),
        "references": list(sig.references),
        "precedence": [s.id for s in catalog.signatures].index(sig.id) + 1,
        "path": str(sig.path),
        "description": sig.description,
        "logging_filter": sig.logging_filter(),
        "pushdown_filter": sig.pushdown_filter(),
        "pushdown_filter_coarse": sig.pushdown_filter(coarse=True),
        "sql_condition": condition_sql(sig),
    }
    if as_json:
        print(dump_json(info))
        return
    for key in ("id", "title", "status", "level", "issues", "symptom_of", "precedence", "path"):
        value = info[key]
        text = ", ".join(value) or "none" if isinstance(value, list) else str(value)
        console.print(f"[bold]{key}[/bold]: ", end="", highlight=False)
        console.print(text, markup=False, highlight=False)
    console.print("[bold]Cloud Logging filter[/bold] (a superset of its entries, for the Console):")
    console.print(info["logging_filter"], markup=False, soft_wrap=True)
    console.print("[bold]Collector pushdown[/bold] (the same, bounded: forensics collect):")
    console.print(info["pushdown_filter"], markup=False, soft_wrap=True)
    if info["pushdown_filter_coarse"] != info["pushdown_filter"]:
        console.print(
            "[bold]Collector pushdown, coarse[/bold] (sent instead when the catalog's precise "
            "clauses would need one Logging filter more):"
        )
        console.print(info["pushdown_filter_coarse"], markup=False, soft_wrap=True)
    console.print(f"[bold]file[/bold] {sig.path}:")
    assert sig.path is not None
    console.print(sig.path.read_text(encoding="utf-8"), markup=False, highlight=False)


@app.command()
def lint(patterns: PatternsOption = None, issues_file: IssuesFileOption = None) -> None:
    """Check the catalog: ids equal their paths and are unique, required keys and their order,
    RE2-valid regexes, precedence lists every id, a match and a no_match example each; and the
    issue registry against it: every signature, symptom and signal it names must exist.

    Exit 0 when clean, 1 when there are problems (each names its file and key).

    Example:
        forensics patterns lint
    """
    from forensics.incidents.registry_lint import registry_problems
    from forensics.signatures.catalog import scan_catalog
    from forensics.signatures.validators import lint_problems

    scan = scan_catalog(patterns)
    lint_problems(scan)
    registry_problems(scan, issues_file)
    for problem in scan.problems:
        console.print(f"{'error' if problem.fatal else 'lint'}: {problem}", markup=False)
    n = len(scan.signatures)
    if scan.problems:
        console.print(f"{len(scan.problems)} problem(s) in {n} signature file(s)", markup=False)
        raise typer.Exit(EXIT_ATTENTION)
    console.print(f"{n} signatures, catalog {scan.version}: no problems", markup=False)


@app.command()
def apply(patterns: PatternsOption = None, db: DbOption = None) -> None:
    """Save the store's classification with the current catalog (after editing patterns/).

    Classifies every ingest run not yet classified with this catalog version, and marks it;
    an unchanged store classifies nothing. `ingest` and `collect` do this for what they add;
    the reading commands (analyze, report, incidents, ...) never write: with a changed
    catalog they classify in memory for their answer and say so.

    Example:
        forensics patterns apply --db demo-out/demo.duckdb
    """
    from forensics.pipeline import classify_pending
    from forensics.signatures import load_catalog
    from forensics.store import open_store

    catalog = load_catalog(patterns)
    with open_store(db_path(db), existing=True) as store:
        done = classify_pending(store, catalog)
    runs, tables = len(done.stale_runs), done.stale_tables
    saved = f"; per-run tables saved: {', '.join(tables)}" if tables else ""
    console.print(
        f"catalog {catalog.version}: classified {runs} ingest run{'s' if runs != 1 else ''}"
        + ("" if runs or tables else " (the store was up to date)")
        + saved,
        markup=False,
    )


@app.command()
def test(patterns: PatternsOption = None) -> None:
    """Run every example through ingest and the compiled SQL (the production path).

    Lists failing examples and signatures without a match or no_match example; exit 1 if any.

    Example:
        forensics patterns test
    """
    from forensics.signatures import load_catalog
    from forensics.signatures.examples import run_examples

    catalog = load_catalog(patterns)
    results = run_examples(catalog)
    failed = [r for r in results if not r.passed]
    for result in failed:
        console.print(result.describe(), markup=False)
        console.print(f"      {result.text}", markup=False)
    kinds = {(r.signature, r.kind) for r in results}
    uncovered = [
        f"{s.id} (no {kind} example)"
        for s in catalog.active()
        for kind in ("match", "no_match")
        if (s.id, kind) not in kinds
    ]
    for line in uncovered:
        console.print(f"missing: {line}", markup=False)
    console.print(
        f"{len(results) - len(failed)}/{len(results)} examples pass; "
        f"{len(uncovered)} missing example kind(s)",
        markup=False,
    )
    if failed or uncovered:
        raise typer.Exit(EXIT_ATTENTION)


@app.command()
def new(
    from_template: Annotated[
        str, typer.Option("--from-template", help="A template id from `forensics analyze`.")
    ],
    signature_id: Annotated[
        str | None, typer.Option("--id", help="Id for the new signature: <area>/<slug>.")
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option("--hours", help="Mine only the last N hours (default: the whole store)."),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Window end with --hours.")] = None,
    db: DbOption = None,
    patterns: PatternsOption = None,
) -> None:
    """Write a signature file from an unexplained-error template, and list it in precedence.

    The file is a starting point (status experimental): its regex is the template's literal
    words with the masked parts as wildcards, its match example the template's first entry.
    Review it, then run `forensics patterns test`.

    Example:
        forensics patterns new --from-template t-5d41402abc --id billing/card-declined
    """
    from forensics.signatures.authoring import write_signature_from_template

    path = write_signature_from_template(
        db_path(db), from_template, signature_id, patterns, hours, until
    )
    console.print(f"wrote {path} and listed it in catalog.yml precedence", markup=False)
    console.print("next: edit it, then run `forensics patterns test`", markup=False)
