"""The one error of this plugin: a DeidError, so the engine repeats its message (it never quotes
a value: only paths, tags and what went wrong)."""

from __future__ import annotations

from gantry import DeidError


class PseudonymError(DeidError):
    """Encrypting or recovering the original attributes failed; the message says why."""
