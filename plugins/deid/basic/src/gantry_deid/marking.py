"""Mark a de-identified dataset as PS3.15 E.1.1, E.2 and E.3 ask.

- Patient Identity Removed (0012,0062) = ``YES``;
- De-identification Method (0012,0063): ``Gantry gantry-deid <version> <profile> profile`` and
  one value per option in force (LO holds 64 characters, so one value each);
- De-identification Method Code Sequence (0012,0064): (113100, DCM, "Basic Application
  Confidentiality Profile") and one item per option in force, with its CID 7050 code;
- Longitudinal Temporal Information Modified (0028,0303): ``UNMODIFIED`` with
  retain-long-full-dates, ``MODIFIED`` with retain-long-modified-dates, else ``REMOVED``.

The code sequence lists the options *in force* for the run (what the plan applied to every
element), not only those that changed something in this instance; ``context.used_options``
records the latter. Values already present (an instance de-identified before) are replaced.
Burned In Annotation (0028,0301) is left to the pixel redaction step.
"""

from __future__ import annotations

from typing import Any

from gantry.deid import BASIC_PROFILE, OPTIONS
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

PATIENT_IDENTITY_REMOVED = BaseTag(0x00120062)
DEIDENTIFICATION_METHOD = BaseTag(0x00120063)
DEIDENTIFICATION_METHOD_CODES = BaseTag(0x00120064)
LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED = BaseTag(0x00280303)
CODE_VALUE, CODING_SCHEME_DESIGNATOR, CODE_MEANING = BaseTag(0x00080100), BaseTag(0x00080102), BaseTag(0x00080104)
VERSION = "0.1.0"


def method_text(profile: str, options: frozenset[str]) -> list[str]:
    return [f"Gantry gantry-deid {VERSION} {profile} profile"] + [name for name in OPTIONS if name in options]


def _element(tag: BaseTag, vr: str, value: Any) -> DataElement:
    # Our own values, typed as pydicom types them: no conversion or validation per instance.
    return DataElement(tag, vr, value, already_converted=True)


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item._dict[CODE_VALUE] = _element(CODE_VALUE, "SH", value)
    item._dict[CODING_SCHEME_DESIGNATOR] = _element(CODING_SCHEME_DESIGNATOR, "SH", "DCM")
    item._dict[CODE_MEANING] = _element(CODE_MEANING, "LO", meaning)
    return item


def mark(dataset: Any, profile: str, options: frozenset[str], longitudinal: str) -> None:
    """Add the marking attributes to ``dataset`` (the de-identified top level)."""
    items = [_code_item(*BASIC_PROFILE)]
    items += [_code_item(code, meaning) for name, (code, meaning, _column) in OPTIONS.items() if name in options]
    method = method_text(profile, options)
    elements = dataset._dict
    elements[PATIENT_IDENTITY_REMOVED] = _element(PATIENT_IDENTITY_REMOVED, "CS", "YES")
    elements[DEIDENTIFICATION_METHOD] = _element(DEIDENTIFICATION_METHOD, "LO",
                                                 method[0] if len(method) == 1 else MultiValue(str, method))
    elements[DEIDENTIFICATION_METHOD_CODES] = _element(DEIDENTIFICATION_METHOD_CODES, "SQ", Sequence(items))
    elements[LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED] = _element(
        LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED, "CS", longitudinal)
