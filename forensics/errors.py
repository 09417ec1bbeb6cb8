"""Typed errors the library raises; the CLI maps each to a documented exit code."""

from __future__ import annotations

__all__ = [
    "EXIT_ATTENTION",
    "EXIT_OK",
    "EXIT_USAGE",
    "CollectError",
    "ConfigError",
    "CredentialsError",
    "ForensicsError",
    "InputError",
    "StoreBusyError",
    "StoreError",
]

EXIT_OK = 0
EXIT_ATTENTION = (
    1  # the command worked and found something that needs a person (diff, ingest rejects)
)
EXIT_USAGE = 2  # bad arguments, bad input or unusable data


class ForensicsError(Exception):
    """Base of every error the CLI turns into a clear one-line message and an exit code."""

    exit_code: int = EXIT_USAGE


class InputError(ForensicsError):
    """An input file or value cannot be used; the message names the file and line or field."""


class ConfigError(ForensicsError):
    """The configuration, a pattern or a registry file is invalid."""


class CredentialsError(ForensicsError):
    """No usable Google credentials; the message says how to log in or what to do instead."""


class CollectError(ForensicsError):
    """A collection cannot start: a client library outside the supported range, a bad endpoint."""


class StoreError(ForensicsError):
    """The evidence store cannot be opened or queried."""


class StoreBusyError(StoreError):
    """Another process holds the store's write lock for longer than we were willing to wait."""
