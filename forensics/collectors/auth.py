"""Credentials and endpoints: Application Default Credentials for Google, none for the emulator.

Usage:
  1. ``endpoints(settings)`` resolves where to send calls: the [collect] settings or flags,
     else $FORENSICS_LOGGING_ENDPOINT / $FORENSICS_MONITORING_ENDPOINT, else Google.
  2. ``google_credentials()`` returns ADC with read-only scopes, or raises
     ``CredentialsError`` with the one paragraph that tells the user what to do.

Only read-only scopes are requested (logging.read, monitoring.read): the tool never writes to
a project, and a token that leaks can read logs but change nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from forensics.errors import CredentialsError

__all__ = [
    "READ_ONLY_SCOPES",
    "Endpoints",
    "endpoints",
    "google_credentials",
    "no_credentials_help",
]

READ_ONLY_SCOPES = (
    "https://www.googleapis.com/auth/logging.read",
    "https://www.googleapis.com/auth/monitoring.read",
)
LOGGING_ENV = "FORENSICS_LOGGING_ENDPOINT"
MONITORING_ENV = "FORENSICS_MONITORING_ENDPOINT"


def no_credentials_help(project: str) -> str:
    """The paragraph shown when no credentials are found."""
    return (
        f"No Google Cloud credentials were found, so nothing can be collected from {project}. "
        "Log in once with `gcloud auth application-default login` (an account with "
        "roles/logging.viewer and roles/monitoring.viewer is enough: forensics only reads), or "
        "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, then run the command "
        "again. Without access to the project you can still analyse exported logs: "
        "`gcloud logging read ... --format=json > export.json` and `forensics ingest "
        "export.json`. To see the whole tool work on synthetic data first, run `make demo`."
    )


@dataclass(frozen=True)
class Endpoints:
    """Where the two APIs are; empty means Google's production endpoints."""

    logging: str = ""
    monitoring: str = ""

    @property
    def logging_url(self) -> str:
        """The Logging endpoint with a scheme: local emulators speak plain HTTP."""
        if not self.logging or "://" in self.logging:
            return self.logging
        return f"http://{self.logging}"


def endpoints(logging: str = "", monitoring: str = "") -> Endpoints:
    """Explicit values (flags, config) first, then the environment."""
    return Endpoints(
        logging or os.environ.get(LOGGING_ENV, ""),
        monitoring or os.environ.get(MONITORING_ENV, ""),
    )


def google_credentials(project: str) -> Any:
    """ADC with read-only scopes; CredentialsError with instructions when there are none."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=list(READ_ONLY_SCOPES))
    except DefaultCredentialsError as err:
        raise CredentialsError(no_credentials_help(project)) from err
    return credentials
