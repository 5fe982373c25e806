"""A stand-in for a Basic Profile output, for this plugin's tests and benchmark.

``simulated_basic_output`` blanks a copy of a dataset the way PS3.15 Table E.1-1 says (through
this plugin's own list), remaps UIDs to 2.25, drops private, curve and overlay groups, clears
the File Meta identity and the preamble, and adds Gantry's marking. It is not a de-identifier:
it knows nothing of IOD types or of cleaning, and the real engine lives in ``gantry-deid``. It
gives the audit realistic clean input to prove that a clean output raises no finding.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from typing import Any

from gantry_phi_audit.profile_lists import basic_profile_attributes

DUMMY_BY_VR: dict[str, Any] = {
    "DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y", "PN": "ANONYMOUS",
    "DS": "0", "IS": "0", "US": 0, "SS": 0, "UL": 0, "SL": 0, "FL": 0.0, "FD": 0.0,
    "OB": b"\x00\x00", "OW": b"\x00\x00", "UN": b"\x00\x00",
}
REMOVED_FILE_META = (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102)


def simulated_basic_output(dataset: Any, *, options: Iterable[str] = ()) -> Any:
    """A blanked deep copy of ``dataset``; attributes an option keeps or cleans stay as they are."""
    from gantry.deid import BASIC_PROFILE, OPTIONS
    from pydicom.dataset import Dataset

    options = frozenset(options)
    output = copy.deepcopy(dataset)
    _blank(output, options)
    meta = getattr(output, "file_meta", None)
    if meta is not None:
        for tag in REMOVED_FILE_META:
            if tag in meta:
                del meta[tag]
        if "MediaStorageSOPInstanceUID" in meta:
            meta.MediaStorageSOPInstanceUID = remapped_uid(meta.MediaStorageSOPInstanceUID)
    if getattr(output, "preamble", None) is not None:
        output.preamble = b"\x00" * 128
    output.PatientIdentityRemoved = "YES"
    output.DeidentificationMethod = "Gantry Basic Profile (simulated for tests)"
    codes = []
    for value, meaning in [BASIC_PROFILE, *(OPTIONS[name][:2] for name in sorted(options))]:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
        codes.append(code)
    output.DeidentificationMethodCodeSequence = codes
    output.LongitudinalTemporalInformationModified = "REMOVED"
    return output


def remapped_uid(uid: str) -> str:
    return "2.25." + str(int.from_bytes(hashlib.sha256(str(uid).encode()).digest()[:16], "big"))


def _blank(dataset: Any, options: frozenset[str]) -> None:
    from pydicom.uid import UID_dictionary

    listed = basic_profile_attributes()
    for element in list(dataset):
        tag, group = element.tag, element.tag >> 16
        entry = listed.get(tag)
        if group & 1 or 0x5000 <= group <= 0x60FF:
            del dataset[tag]
        elif entry is not None and not (entry.kept_by | entry.cleaned_by) & options:
            if entry.action.startswith("X") and "D" not in entry.action and "Z" not in entry.action:
                del dataset[tag]
            elif element.VR == "SQ":
                for item in element.value:
                    _blank(item, options)
            elif element.VR == "UI":
                element.value = remapped_uid(element.value)
            elif "D" in entry.action:
                element.value = DUMMY_BY_VR.get(element.VR, "ANONYMOUS")
            else:
                element.value = None  # Z: zero length
        elif element.VR == "SQ":
            for item in element.value:
                _blank(item, options)
        elif element.VR == "UI" and element.value and "retain-uids" not in options:
            values = element.value if isinstance(element.value, list) or hasattr(element.value, "append") \
                else [element.value]
            new = [str(v) if str(v) in UID_dictionary else remapped_uid(v) for v in values]
            element.value = new[0] if len(new) == 1 else new
