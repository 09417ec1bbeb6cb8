"""forensics: GCP log and incident forensics for Cloud Run services on Cloud SQL."""

__version__ = "0.10.0"
