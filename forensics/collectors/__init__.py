"""Collectors that pull logs and metrics from a GCP project (or the emulator) into the store."""
