"""Turning query keys (keyword -> DICOM matching text) into a C-FIND identifier and back.

Values are text as the index and the CLI write them: ``PatientName=DOE*``, ``StudyDate=2024-``,
``SeriesNumber=3``; an empty value asks for the attribute back (a return key).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from pydicom import DataElement, Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword

from gantry.header import text_of

#: VRs pydicom holds as Python numbers rather than text.
_INTEGER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "AT"})
_FLOAT_VRS = frozenset({"FL", "FD"})
#: What says "UTF-8" in a dataset: used as soon as any text is not ASCII.
UTF8 = "ISO_IR 192"
#: Never copied from the keys into answers as an ordinary attribute: they describe the message.
MESSAGE_KEYWORDS = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet"})


@functools.cache  # asked for every key of every answer
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise ValueError(f"{keyword!r} is not a DICOM keyword")
    return tag, dictionary_VR(tag).split(" or ")[0]  # "US or SS": the first is the usual one


def element(keyword: str, text: str | int | float | None) -> DataElement:
    """The element ``keyword`` holding ``text`` (None or "" -> empty); ValueError for a
    keyword pydicom does not know."""
    tag, vr = _tag_and_vr(keyword)
    if vr == "SQ":
        return DataElement(tag, vr, [])  # only asked for; sequence matching is not supported
    if text is None or text == "":
        return DataElement(tag, vr, None)
    if vr in _INTEGER_VRS or vr in _FLOAT_VRS:
        numbers = [int(part) if vr in _INTEGER_VRS else float(part) for part in str(text).split("\\")]
        return DataElement(tag, vr, numbers[0] if len(numbers) == 1 else numbers)
    text = str(text)
    return DataElement(tag, vr, text.split("\\") if "\\" in text else text)


def build_identifier(keys: Mapping[str, str], extra: Iterable[tuple[str, str]] = ()) -> Dataset:
    """A dataset with one element per key, in keyword order of the tags, plus ``extra`` pairs;
    Specific Character Set is UTF-8 when any value is not ASCII."""
    identifier = Dataset()
    for keyword, text in [*keys.items(), *extra]:
        identifier.add(element(keyword, text))
    mark_utf8_if_needed(identifier)
    return identifier


def mark_utf8_if_needed(identifier: Dataset) -> None:
    if any(not str(value).isascii() for value in _text_values(identifier)):
        identifier.SpecificCharacterSet = UTF8


def _text_values(identifier: Dataset) -> Iterable[Any]:
    for item in identifier:
        if item.VR != "SQ" and item.value is not None:
            yield item.value


def answer_texts(identifier: Dataset) -> dict[str, str]:
    """``keyword -> value text`` for every top-level element but the message ones (the CLI's
    rows; sequences show as an empty string)."""
    texts = {}
    for item in identifier:
        if item.keyword and item.keyword not in MESSAGE_KEYWORDS:
            texts[item.keyword] = "" if item.VR == "SQ" else text_of(item.value, item.VR)
    return texts
