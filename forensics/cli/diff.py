"""`forensics diff`: compare a day's snapshot with a baseline, with exit codes for cron."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from forensics.cli.common import DbOption, JsonOption, db_path, dump_json
from forensics.cli.notify import AttemptsOption, BackoffOption, WebhookOption, notify
from forensics.console import console
from forensics.errors import EXIT_ATTENTION, EXIT_OK, InputError
from forensics.timeutil import parse_day

if TYPE_CHECKING:
    from forensics.snapshots import SpikeRule

__all__ = ["MinCountOption", "PValueOption", "RatioOption", "diff", "spike_rule"]

MinCountOption = Annotated[
    int, typer.Option("--spike-min-count", help="Spike rule: at least this many entries.")
]
RatioOption = Annotated[
    float, typer.Option("--spike-ratio", help="Spike rule: at least this many times the baseline.")
]
PValueOption = Annotated[
    float,
    typer.Option("--spike-p", help="Spike rule: Poisson tail probability below this."),
]


def spike_rule(min_count: int, ratio: float, p_value: float) -> SpikeRule:
    """The rule from the flags; a bad threshold is a usage error (exit code 2)."""
    from forensics.snapshots import SpikeRule

    try:
        return SpikeRule(min_count, ratio, p_value)
    except ValueError as err:
        raise InputError(str(err)) from None


def diff(
    date: Annotated[
        str | None,
        typer.Option("--date", help="Day to check (YYYY-MM-DD, today, yesterday); default latest."),
    ] = None,
    baseline: Annotated[
        str,
        typer.Option(
            "--baseline",
            help="7d (mean per day of the 7 days before), 1d (the day before), or a DATE.",
        ),
    ] = "7d",
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
    as_json: JsonOption = False,
    spike_min_count: MinCountOption = 10,
    spike_ratio: RatioOption = 3.0,
    spike_p: PValueOption = 0.001,
    webhook: WebhookOption = None,
    webhook_attempts: AttemptsOption = 4,
    webhook_backoff: BackoffOption = 1.0,
    db: DbOption = None,
) -> None:
    """Compare a day's snapshot with a baseline: new and gone signatures, spikes, new unknown
    errors, issue status changes (regressions and contradicted claims first).

    Exit codes: 0 nothing needs attention, 1 something does (a new signature, a spike, a new
    unknown-error template, a regressed, newly active or contradicted issue), 2 usage or data
    error (e.g. no snapshot for the day: the message lists the days that have one).
    A spike needs all of: count >= --spike-min-count, count >= --spike-ratio x baseline, and
    P(X >= count) < --spike-p for X ~ Poisson(baseline per day). With --webhook, the findings
    are posted (Slack-compatible JSON) when something needs attention.

    Example:
        forensics snapshot --date yesterday && forensics diff --date yesterday --baseline 7d
        forensics diff --date 2025-09-16 --baseline 2025-09-14 --markdown > diff.md
    """
    from forensics.snapshots import diff_days  # deferred: --help stays instant
    from forensics.snapshots.render import markdown, print_rich
    from forensics.store import open_store
    from forensics.watch.webhook import check_url

    if as_markdown and as_json:
        raise InputError("--markdown and --json: choose one")
    rule = spike_rule(spike_min_count, spike_ratio, spike_p)
    url = check_url(webhook) if webhook else None
    day = parse_day(date) if date else None
    with open_store(db_path(db), read_only=True) as store:
        result = diff_days(store, day, baseline, rule)
    if as_json:
        print(dump_json(result.as_dict()))
    elif as_markdown:
        print(markdown(result))
    else:
        print_rich(result, console)
    if url and result.needs_attention:
        footer = f"baseline {result.baseline}: {', '.join(result.baseline_days)}"
        notify(url, f"forensics diff {result.current}", result, footer,
               attempts=webhook_attempts, backoff_s=webhook_backoff)  # fmt: skip
    raise typer.Exit(EXIT_ATTENTION if result.needs_attention else EXIT_OK)
