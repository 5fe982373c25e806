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
| SQ | by what its items are (below) |
| UI | none: a dummy UID must be consistent across instances, so the engine calls ``U`` instead |

Multi-valued attributes get one dummy value.

A sequence's dummy must stay a valid sequence of its kind: an empty item is not (every item of
a standard sequence has Type 1 attributes), so D on a sequence looks at the items it had
(:func:`sequence_kind`):

| items | D writes |
|---|---|
| content items (Relationship Type or Value Type: SR Content Sequence ...) | one dummy content item: Relationship Type ``CONTAINS`` (when the items had one), Value Type ``TEXT``, Concept Name (121106, DCM, "Comment"), Text Value ``ANONYMOUS``; nothing of the original content |
| codes (Code Value, Long Code Value, URN Code Value or Code Meaning: Institution Code Sequence, Person Identification Code Sequence ...) | one dummy code: (``ANONYMOUS``, ``99GANTRY``, "ANONYMOUS"), a local coding scheme (PS3.16 8.2) |
| anything else (Verifying Observer Sequence, Referenced Performed Procedure Step Sequence, Operator Identification Sequence ...) | the items themselves, cleaned by the engine with the plan like a kept sequence: every identifying attribute inside has its own row (names D, organisations D, UIDs U, dates D ...), and the items keep their Type 1 structure |
| no items | no items (nothing to make a valid item from) |
"""

from __future__ import annotations

from collections.abc import Iterable
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


RELATIONSHIP_TYPE, VALUE_TYPE = 0x0040A010, 0x0040A040
CODE_ITEM_TAGS = (0x00080100, 0x00080119, 0x00080120, 0x00080104)  # Code Value, Long/URN Code Value, Meaning
#: The concept of the dummy content item: (code value, coding scheme designator, code meaning).
DUMMY_CONCEPT = ("121106", "DCM", "Comment")
#: The dummy code: a local coding scheme ("99" prefix, PS3.16 8.2) so it cannot be read as a real one.
DUMMY_CODE = (TEXT, "99GANTRY", TEXT)


def sequence_kind(items: Iterable[Any]) -> str:
    """``"content"``, ``"code"`` or ``"items"``: what a sequence's items are, for its dummy."""
    items = list(items)
    if any(RELATIONSHIP_TYPE in item or VALUE_TYPE in item for item in items):
        return "content"
    if items and all(any(tag in item for tag in CODE_ITEM_TAGS) for item in items):
        return "code"
    return "items"


def dummy_code_item(code: tuple[str, str, str] = DUMMY_CODE) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code
    return item


def dummy_content_item(relationship: bool = True) -> Any:
    """A TEXT content item (PS3.3 C.17.3) holding nothing of the original content."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    if relationship:
        item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = Sequence([dummy_code_item(DUMMY_CONCEPT)])
    item.TextValue = TEXT
    return item


def dummy_items(items: Iterable[Any]) -> Any:
    """The items D writes for a sequence that had ``items`` (see the table above)."""
    from pydicom.sequence import Sequence

    items = list(items)
    kind = sequence_kind(items)
    if kind == "content":
        return Sequence([dummy_content_item(any(RELATIONSHIP_TYPE in item for item in items))])
    if kind == "code":
        return Sequence([dummy_code_item()])
    return Sequence(items)
