"""The google-cloud-bigquery client: ADC for Google, anonymous for an emulator on 127.0.0.1.

Usage:
  1. ``bigquery_client(project, endpoint)``: ``endpoint`` (flag or [bigquery] endpoint), else
     $FORENSICS_BIGQUERY_ENDPOINT, else Google with Application Default Credentials (a
     ``CredentialsError`` with one line of instructions when there are none).
  2. ``dry_run(client, sql, params)`` returns the bytes a query would scan;
     ``run_query(client, sql, params, max_bytes_billed)`` runs it with that cost guard.

The library is imported lazily so that the rest of the tool works without it being used.
"""

from __future__ import annotations

import os
from typing import Any

from forensics.errors import CollectError, CredentialsError

__all__ = [
    "BIGQUERY_ENV",
    "BIGQUERY_SCOPES",
    "QueryParam",
    "bigquery_client",
    "dry_run",
    "run_query",
]

BIGQUERY_ENV = "FORENSICS_BIGQUERY_ENDPOINT"
# Query jobs need the bigquery scope (bigquery.readonly cannot create jobs); what the account
# may do is bounded by its roles: bigquery.dataViewer on the dataset, bigquery.jobUser.
BIGQUERY_SCOPES = ("https://www.googleapis.com/auth/bigquery",)

# (name, GoogleSQL type, value): a named query parameter.
QueryParam = tuple[str, str, Any]


def _endpoint_url(endpoint: str) -> str:
    if not endpoint or "://" in endpoint:
        return endpoint
    return f"http://{endpoint}"  # local emulators speak plain HTTP


def bigquery_client(project: str, endpoint: str = "") -> Any:
    """A ``google.cloud.bigquery.Client`` billing query jobs to ``project``."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery

    where = _endpoint_url(endpoint or os.environ.get(BIGQUERY_ENV, ""))
    if where:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=where),
        )
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=list(BIGQUERY_SCOPES))
    except DefaultCredentialsError as err:
        raise CredentialsError(
            f"No Google Cloud credentials were found, so BigQuery cannot be queried for "
            f"{project}: run `gcloud auth application-default login` (an account with "
            "roles/bigquery.dataViewer on the log dataset and roles/bigquery.jobUser on the "
            "project is enough) or set GOOGLE_APPLICATION_CREDENTIALS to a key file."
        ) from err
    return bigquery.Client(project=project, credentials=credentials)


def _job_config(params: list[QueryParam], **options: Any) -> Any:
    from google.cloud import bigquery

    return bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter(n, t, v) for n, t, v in params],
        **options,
    )


def _first_line(err: Exception) -> str:
    text = getattr(err, "message", None) or str(err)
    return str(text).strip().splitlines()[0][:500] if str(text).strip() else type(err).__name__


def dry_run(client: Any, sql: str, params: list[QueryParam]) -> int:
    """The bytes BigQuery would scan for ``sql`` (a dry run costs nothing)."""
    from google.api_core import exceptions

    try:
        job = client.query(sql, job_config=_job_config(params, dry_run=True, use_query_cache=False))
    except exceptions.GoogleAPICallError as err:
        raise CollectError(f"BigQuery refused the query (dry run): {_first_line(err)}") from err
    return int(job.total_bytes_processed or 0)


def run_query(
    client: Any, sql: str, params: list[QueryParam], max_bytes_billed: int, timeout_s: float
) -> list[dict[str, Any]]:
    """Run ``sql`` and return its rows as dicts; BigQuery refuses it past ``max_bytes_billed``."""
    config = _job_config(params, maximum_bytes_billed=max_bytes_billed or None)
    job = client.query(sql, job_config=config, timeout=timeout_s)
    return [dict(row.items()) for row in job.result(timeout=timeout_s)]
