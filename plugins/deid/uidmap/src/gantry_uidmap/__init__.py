"""Gantry's U action: replace UIDs with keyed, deterministic ``2.25.`` UIDs.

``remap_uid(original, secret, namespace="")`` is the replacement itself, for anyone who needs to
compute the same value outside a de-identification run (a report, a reconciliation script).
"""

from __future__ import annotations

from gantry_uidmap.remap import remap_uid

__all__ = ["remap_uid"]
