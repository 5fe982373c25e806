"""DICOM JSON (PS3.18 Annex F): from index rows (QIDO-RS) and from datasets (metadata, STOW).

Index rows are text as :mod:`gantry.header` renders it; each keyword's VR comes from the data
dictionary, and values are typed as Annex F says: PN as ``{"Alphabetic": ...}``, IS/DS and binary
numbers as JSON numbers, several values from a backslash-separated text.

Datasets are converted element by element so that nested elements get their own path in their
``BulkDataURI``: Pixel Data (and Float/Double Float Pixel Data) always, and every other binary
element longer than the threshold, become ``{"vr": ..., "BulkDataURI": base + "/bulkdata/" + path}``
where path is ``GGGGEEEE`` for a top-level element and ``GGGGEEEE/<item>/GGGGEEEE`` below
(item numbers from 0). Their values are never read for that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
#: VRs whose values are bytes (candidates for BulkDataURI).
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW"})
_NUMBER_VRS = frozenset({"IS", "DS", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"})
_INTEGER_VRS = frozenset({"IS", "US", "SS", "UL", "SL", "UV", "SV"})


def tag_key(tag: int) -> str:
    return f"{tag:08X}"


def keyword_vr(keyword: str) -> tuple[int, str]:
    """``(tag, VR)`` of a keyword (KeyError when the dictionary has no such keyword)."""
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return tag, dictionary_VR(tag).split(" or ")[0]


def json_element(keyword: str, value: Any) -> tuple[str, dict[str, Any]]:
    """``(tag key, {"vr": ..., "Value": [...]})`` for one attribute from index text (or a number)."""
    tag, vr = keyword_vr(keyword)
    element: dict[str, Any] = {"vr": vr}
    values = _typed_values(value, vr)
    if values:
        element["Value"] = values
    return tag_key(tag), element


def _typed_values(value: Any, vr: str) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, int | float) and not isinstance(value, bool):
        parts: list[Any] = [value]
    else:
        parts = str(value).split("\\")
    typed: list[Any] = []
    for part in parts:
        if vr == "PN":  # alphabetic=ideographic=phonetic component groups
            groups = dict(zip(("Alphabetic", "Ideographic", "Phonetic"), str(part).split("="), strict=False))
            typed.append({name: text for name, text in groups.items() if text} or None)
        elif vr in _NUMBER_VRS:
            try:
                number = float(part)
            except (TypeError, ValueError):
                typed.append(str(part))
                continue
            typed.append(int(number) if vr in _INTEGER_VRS and number.is_integer() else number)
        else:
            typed.append(str(part))
    return typed


def row_to_json(row: Mapping[str, Any], keywords: Iterable[str], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One QIDO-RS result: ``keywords`` from the index row (empty where it has none), plus ``extra``
    (keyword -> value), in tag order."""
    result: dict[str, Any] = {}
    for keyword in keywords:
        key, element = json_element(keyword, row.get(keyword))
        result[key] = element
    for keyword, value in (extra or {}).items():
        key, element = json_element(keyword, value)
        if keyword == "RetrieveURL":
            element["vr"] = "UR"
        result[key] = element
    return dict(sorted(result.items()))


def dataset_to_json(dataset: Any, bulk_base: str | None, threshold: int, path: str = "") -> dict[str, Any]:
    """Annex F JSON of a pydicom dataset; large binary values as BulkDataURI under ``bulk_base``
    (``.../instances/<uid>``), or inline (base64) when ``bulk_base`` is None."""
    result: dict[str, Any] = {}
    for tag in list(dataset.keys()):
        raw = dataset.get_item(tag)  # a deferred value (dcmread defer_size) stays unread here
        key = tag_key(int(tag))
        here = f"{path}/{key}" if path else key
        deferred = raw is not None and type(raw).__name__ == "RawDataElement" and raw.value is None and raw.length
        vr = str(raw.VR or _dictionary_vr(int(tag))) if deferred else ""
        if deferred and bulk_base is not None and (vr in BINARY_VRS or int(tag) in PIXEL_TAGS):
            result[key] = {"vr": _one_vr(vr), "BulkDataURI": f"{bulk_base}/bulkdata/{here}"}
            continue
        element = dataset[tag]
        vr = str(element.VR)
        if vr == "SQ":
            items = [dataset_to_json(item, bulk_base, threshold, f"{here}/{number}")
                     for number, item in enumerate(element.value or [])]
            result[key] = {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
            continue
        if bulk_base is not None and (vr in BINARY_VRS or int(tag) in PIXEL_TAGS):
            if int(tag) in PIXEL_TAGS or _length(element) > threshold:
                result[key] = {"vr": _one_vr(vr), "BulkDataURI": f"{bulk_base}/bulkdata/{here}"}
                continue
        result[key] = element.to_json_dict(None, threshold)
    return result


def _one_vr(vr: str) -> str:
    return vr.split(" or ")[-1] if " or " in vr else vr  # "OB or OW": OW, as pixel data is usually


def _dictionary_vr(tag: int) -> str:
    from pydicom.datadict import dictionary_VR

    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _length(element: Any) -> int:
    try:
        return len(element.value or b"")
    except TypeError:
        return 0


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON error body every 4xx/5xx answer carries."""
    return {"error": {"status": status, "message": message}}
