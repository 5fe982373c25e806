"""Dummy values: what D writes, per VR.

| VR | dummy |
|---|---|
| AE, CS, LO, LT, SH, ST, UC, UT | ``ANONYMOUS`` (fits the shortest of them, 16 characters, and every repertoire) |
| PN | ``ANONYMOUS`` (a family name only) |
| AS | ``000Y`` |
| DA / TM / DT | ``19000101`` / ``000000`` / ``19000101000000`` |
| DS, IS | ``0`` |
| UR | ``urn:anonymous`` |
| US, SS, UL, SL, UV, SV, FL, FD | ``0`` (one value) |
| AT | ``(0000,0000)`` |
| OB, OW, OD, OF, OL, OV, UN | zero bytes, as many as the original (at least one value, rounded up to the VR's unit): an Overlay Data or curve keeps its size and loses its content |
| SQ | one empty item |
| UI | none: a dummy UID must be consistent across instances, so the engine calls ``U`` instead |

Multi-valued attributes get one dummy value.
"""

from __future__ import annotations

from typing import Any

TEXT = "ANONYMOUS"

DUMMY_TEXT: dict[str, Any] = {
    "AE": TEXT, "CS": TEXT, "LO": TEXT, "LT": TEXT, "SH": TEXT, "ST": TEXT, "UC": TEXT, "UT": TEXT,
    "PN": TEXT,
    "AS": "000Y",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "DS": "0",
    "IS": "0",
    "UR": "urn:anonymous",
}
DUMMY_NUMBER: dict[str, Any] = {"US": 0, "SS": 0, "UL": 0, "SL": 0, "UV": 0, "SV": 0, "FL": 0.0, "FD": 0.0,
                                "AT": 0}
#: Bytes per value of the binary VRs (a value length must be a multiple of it).
BINARY_UNIT = {"OB": 2, "OW": 2, "UN": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def dummy_value(vr: str, original: Any) -> Any:
    """A non-empty value valid for ``vr``. Raises KeyError for a VR without one (UI, SQ)."""
    if vr in DUMMY_TEXT:
        return DUMMY_TEXT[vr]
    if vr in DUMMY_NUMBER:
        return DUMMY_NUMBER[vr]
    if vr in BINARY_UNIT or vr in ("OB or OW", "US or OW", "US or SS or OW"):
        unit = BINARY_UNIT.get(vr, 2)
        length = len(original) if isinstance(original, (bytes, bytearray)) else 0
        length = max(unit, -(-length // unit) * unit)
        return bytes(length)
    raise KeyError(vr)
