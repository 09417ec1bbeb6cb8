"""Cut a text to a length for a person to read, and say so: a cut text ends in "…"."""

from __future__ import annotations

from typing import Any

__all__ = ["clip"]


def clip(value: Any, limit: int = 400) -> str:
    """``value`` as text of at most ``limit`` characters; a longer one keeps its first
    ``limit - 1`` and ends in "…" (None is "")."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
