"""Webhook options and the one function that posts a DiffResult and says how it went."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import typer

from forensics.console import err_console

if TYPE_CHECKING:
    from forensics.snapshots.diff import DiffResult

__all__ = ["AttemptsOption", "BackoffOption", "WebhookOption", "notify"]

WebhookOption = Annotated[
    str | None,
    typer.Option(
        "--webhook",
        envvar="FORENSICS_WEBHOOK",
        help="Slack-compatible incoming-webhook URL; a secret, so prefer $FORENSICS_WEBHOOK.",
        show_envvar=False,
    ),
]
AttemptsOption = Annotated[
    int, typer.Option("--webhook-attempts", min=1, max=10, help="POST attempts per message.")
]
BackoffOption = Annotated[
    float, typer.Option("--webhook-backoff", min=0, help="Seconds before the first retry; doubles.")
]


def notify(
    url: str,
    source: str,
    result: DiffResult,
    footer: str,
    *,
    attempts: int,
    backoff_s: float,
    stop: threading.Event | None = None,
) -> bool:
    """POST ``result`` as a Slack message; print where it went (masked) or why it failed."""
    from forensics.snapshots.render import finding_lines, headline
    from forensics.watch.webhook import mask_url, post_json, slack_payload

    title = f"{source}: {headline(result)}"
    lines = finding_lines(result) or ["no changes"]
    payload = slack_payload(title, lines, footer)
    delivery = post_json(url, payload, attempts=attempts, backoff_s=backoff_s, stop=stop)
    where = mask_url(url)
    if delivery.ok:
        err_console.print(f"posted to {where} (attempt {delivery.attempts})", markup=False)
    else:
        err_console.print(
            f"webhook {where} failed after {delivery.attempts} attempt(s): {delivery.error}",
            markup=False,
        )
    return delivery.ok
