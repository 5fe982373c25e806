"""Header values as text: the one rendering the index, scanners and queries agree on.

A storage index keeps attributes as text so that DICOM matching (wildcards, ranges, lists of
UIDs) works the same in every backend. This module says what that text is, starting from a
pydicom Dataset. A reader's fast ``scan`` (which never builds a Dataset) must produce exactly the
same strings; its tests compare against :func:`text_values`.

The rules: the value as decoded text (Specific Character Set applied) with trailing padding
(spaces and NULs) removed and leading spaces removed where the VR allows them; several values
joined by a backslash; binary numbers (US, UL, SS, SL, FL, FD ...) in decimal; an empty element
is absent.
"""

from __future__ import annotations

from typing import Any

#: VRs whose leading spaces are insignificant padding as well (PS3.5 6.2).
_STRIP_LEADING = frozenset({"AE", "CS", "DS", "IS", "DA", "DT", "TM", "SH", "LO", "UI", "AS", "PN"})
_BINARY_NUMBERS = frozenset({"US", "UL", "SS", "SL", "FL", "FD", "SV", "UV"})


def text_of(value: Any, vr: str) -> str:
    """One element value (as pydicom holds it) rendered as index text."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(text_of(item, vr) for item in value)
    if vr in _BINARY_NUMBERS:
        return repr(value) if isinstance(value, float) else str(int(value))
    if isinstance(value, bytes):
        text = value.decode("ascii", "replace")
    elif vr in ("IS", "DS") and isinstance(getattr(value, "original_string", None), str):
        text = value.original_string  # as written: "1.50" stays "1.50", not "1.5"
    else:
        text = str(value)  # PersonName renders its decoded components, '^' and '=' kept
    text = text.rstrip(" \x00")
    return text.lstrip(" ") if vr in _STRIP_LEADING else text


def text_values(dataset: Any, keywords: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The listed top-level attributes of ``dataset`` as index text; absent or empty ones left out.

    ``TransferSyntaxUID`` is taken from the File Meta when the dataset has one.
    """
    from pydicom.datadict import tag_for_keyword

    values: dict[str, str] = {}
    for keyword in keywords:
        if keyword == "TransferSyntaxUID":
            meta = getattr(dataset, "file_meta", None)
            element = meta.get("TransferSyntaxUID") if meta is not None else None
            if element:
                values[keyword] = str(element).strip(" \x00")
            continue
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise KeyError(f"{keyword!r} is not a DICOM keyword")
        element = dataset.get(tag)
        if element is None or element.VR == "SQ":
            continue
        text = text_of(element.value, element.VR)
        if text:
            values[keyword] = text
    return values
