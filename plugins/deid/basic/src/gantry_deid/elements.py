"""Reading elements of a dataset we must not change.

pydicom converts a raw element *inside* its dataset the first time it is read (``ds[tag]``).
The engine reads the caller's dataset through these helpers instead, which build a fresh
DataElement from the raw one and leave the dataset as it was; elements that were already
converted are copied, so an action can never reach the caller's objects.
"""

from __future__ import annotations

import copy
from typing import Any

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.multival import MultiValue

SPECIFIC_CHARACTER_SET = 0x00080005


def charset_of(dataset: Any) -> Any:
    """The character set of ``dataset``'s text, as pydicom itself decodes it."""
    return dataset.original_character_set or dataset._character_set


def element_at(dataset: Any, tag: int, charset: Any = None, element: Any = None) -> DataElement:
    """A DataElement for ``tag`` that shares nothing mutable with ``dataset``.

    ``element`` is ``dataset``'s element for ``tag`` when the caller has it at hand (saves a lookup).
    """
    if element is None:
        element = dataset._dict[tag]
    if isinstance(element, RawDataElement):
        if element.value is None and element.length:
            return copy_element(dataset[tag])  # a deferred value: pydicom reads it from the file
        if tag == SPECIFIC_CHARACTER_SET:
            charset = default_encoding
        elif charset is None:
            charset = charset_of(dataset)
        return convert_raw_data_element(element, encoding=charset, ds=dataset)
    return copy_element(element)


def copy_element(element: DataElement) -> DataElement:
    """A copy whose value can be changed in place without touching the original.

    Sequences are copied in depth (rare, and their items are datasets); lists of values are
    copied; everything else in a DataElement value is immutable.
    """
    if element.VR == "SQ":
        return copy.deepcopy(element)
    duplicate = copy.copy(element)
    if isinstance(element.value, MultiValue | list):
        duplicate.value = list(element.value)
    return duplicate


def text_values(element: DataElement) -> list[str]:
    """The values of a text element as strings (empty ones left out)."""
    value = element.value
    if value is None:
        return []
    values = value if isinstance(value, MultiValue | list | tuple) else [value]
    return [str(item) for item in values if item is not None and str(item).strip()]
