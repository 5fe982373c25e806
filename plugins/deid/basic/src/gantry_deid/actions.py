"""The actions X, Z, D, K and C as :class:`gantry.DeidAction` providers.

Each is ``apply(dataset, element, context) -> None`` and changes ``element`` in place or deletes
it from ``dataset`` (the engine's working copy). What the engine does around them:

- sequences: for K (and U, and C) the engine cleans every item with the same plan before the
  action runs; X and Z throw the items away, so the engine skips cleaning them first
  (``replaces_sequence_items = True``); D replaces content items and codes by one dummy item and
  keeps any other items, cleaned (:func:`gantry_deid.dummies.dummy_items`), so the engine
  cleans the items first only when D will keep them (``replaces_sequence_items`` is then a
  function of the items);
- D on a UI element: the engine calls the provider of U instead (a dummy UID must stay
  consistent across instances); C on DA, DT or TM: the provider of ``shift``
  (:data:`gantry.deid.DATE_VRS`);
- K on a non-sequence element never reaches :func:`keep` while ours is the active K provider:
  the engine copies the element's encoded bytes as they are (fast path).

C (clean), per VR:

| VR | C does |
|---|---|
| AE, CS, LO, LT, SH, ST, UC, UT, UR | removes the instance's identifying values (:mod:`gantry_deid.clean`); a dummy when nothing useful remains |
| PN | dummy: a person name cannot be cleaned into something that is not a name |
| DS, IS, AS | kept when the value is a well-formed number (age); else dummy |
| US, SS, UL, SL, UV, SV, FL, FD, AT | kept: binary numbers cannot carry text |
| OB, OW, OD, OF, OL, OV, UN | dummy (zero bytes): bytes we cannot read cannot be cleaned |
| SQ | nothing more: the engine already cleaned the items with the plan (PS3.15 Table E.1-1a: "recursively applying the Profile rules") |
| DA, DT, TM, UI | DeidError: the engine routes these to ``shift`` and ``U`` |
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from gantry import DeidError
from gantry.deid import DATE_VRS, DeidContext
from pydicom.multival import MultiValue

from gantry_deid.clean import clean_text, identifying_pattern
from gantry_deid.dummies import dummy_items, dummy_value, sequence_kind

TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT", "UR"})
KEPT_BY_CLEAN = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT"})
_NUMBER = {"DS": re.compile(r"^ *[+\-]?(\d+|\d+\.\d*|\.\d+)([eE][+\-]?\d+)? *$"),
           "IS": re.compile(r"^ *[+\-]?\d+ *$"),
           "AS": re.compile(r"^\d\d\d[DWMY]$")}


def remove(dataset: Any, element: Any, context: DeidContext) -> None:
    """X: remove the attribute (for a sequence, with all its items)."""
    del dataset[element.tag]


def empty(dataset: Any, element: Any, context: DeidContext) -> None:
    """Z: a zero-length value; a sequence without items."""
    from pydicom.dataelem import empty_value_for_VR
    from pydicom.sequence import Sequence

    element.value = Sequence() if element.VR == "SQ" else empty_value_for_VR(element.VR)


def dummy(dataset: Any, element: Any, context: DeidContext) -> None:
    """D: a non-empty dummy value valid for the VR (:mod:`gantry_deid.dummies`); on a sequence,
    a dummy content item or code in place of content items or codes, else the (cleaned) items."""
    if element.VR == "SQ":
        element.value = dummy_items(element.value or ())
        return
    try:
        element.value = dummy_value(element.VR, element.value)
    except KeyError:
        raise DeidError(f"D has no dummy for VR {element.VR}"
                        + (": UIDs are replaced by U (the engine routes D on UI there)" if element.VR == "UI"
                           else "")) from None


def keep(dataset: Any, element: Any, context: DeidContext) -> None:
    """K: keep the value (a sequence's items were cleaned by the engine with the same plan)."""


def clean(dataset: Any, element: Any, context: DeidContext) -> None:
    """C: see the table in this module's docstring."""
    vr = element.VR
    if vr == "SQ" or vr in KEPT_BY_CLEAN or element.is_empty:
        return
    if vr in DATE_VRS or vr == "UI":
        raise DeidError(f"C on VR {vr} is the engine's to route ({'shift' if vr != 'UI' else 'U'})")
    if vr in _NUMBER:
        values = element.value if isinstance(element.value, MultiValue | list) else [element.value]
        if all(_NUMBER[vr].match(str(value)) for value in values):
            return
        dummy(dataset, element, context)
        return
    if vr not in TEXT_VRS:  # PN, binary VRs and anything unknown
        dummy(dataset, element, context)
        return
    pattern = identifying_pattern(tuple(context.identifying_values))
    if isinstance(element.value, MultiValue | list):  # several values: clean each value, dummy if any is lost
        cleaned = [clean_text(str(value), pattern, vr) for value in element.value]
        if any(value is None for value in cleaned):
            dummy(dataset, element, context)
        elif cleaned != [str(value) for value in element.value]:
            element.value = cleaned
        return
    text = clean_text(str(element.value), pattern, vr)
    if text is None:
        dummy(dataset, element, context)
    elif text != element.value:
        element.value = text


def replacement_value(code: str, vr: str, original: Any) -> Any:
    """What our Z or D writes for a non-sequence element of ``vr``, typed as pydicom types it.

    The engine's fast path for a raw element under our own Z or D: the same value :func:`empty`
    or :func:`dummy` would set, without decoding the old value or validating the new one again.
    ``original`` matters only to D on binary VRs (the length).
    """
    if code == "Z":
        return _typed_empty(vr)
    if vr in _BINARY_VRS:
        return dummy_value(vr, original)
    return _typed_dummy(vr)


_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})


@lru_cache(maxsize=64)
def _typed_empty(vr: str) -> Any:
    from pydicom.dataelem import empty_value_for_VR

    return empty_value_for_VR(vr)


@lru_cache(maxsize=64)
def _typed_dummy(vr: str) -> Any:
    from pydicom.dataelem import DataElement

    return DataElement(0x00100010, vr, dummy_value(vr, None)).value  # pydicom's own typing


def _dummy_replaces(items: Any) -> bool:
    return sequence_kind(items) != "items"


# X and Z throw a sequence's items away, D content items and codes: the engine need not clean them first.
empty.replaces_sequence_items = True  # type: ignore[attr-defined]
remove.replaces_sequence_items = True  # type: ignore[attr-defined]
dummy.replaces_sequence_items = _dummy_replaces  # type: ignore[attr-defined]
