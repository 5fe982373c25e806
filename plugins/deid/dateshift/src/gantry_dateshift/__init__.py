"""Gantry's ``shift`` action: dates moved by one per-patient offset, intervals preserved.

``shift_value(vr, text, days)`` shifts one DA, DT or TM value, for anyone who needs the same
arithmetic outside a de-identification run.
"""

from __future__ import annotations

from gantry_dateshift.temporal import MalformedValue, shift_value

__all__ = ["MalformedValue", "shift_value"]
