"""The C-MOVE SOP classes of the two query/retrieve models and the meanings of their statuses
(levels and key checks are gantry-cfind's)."""

from __future__ import annotations

PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
MOVE_SOP_CLASSES = {"patient": PATIENT_ROOT_MOVE, "study": STUDY_ROOT_MOVE}

SUCCESS = 0x0000
PENDING = 0xFF00
CANCELLED = 0xFE00
WARNING = 0xB000
DESTINATION_UNKNOWN = 0xA801

#: PS3.4 C.4.2.1.5 names, where pynetdicom's wording is looser ("Move destination unknown") or
#: missing (it has no text for Success, so a final result's reason read "status 0x0000 ()").
MEANINGS = {SUCCESS: "Success", DESTINATION_UNKNOWN: "Move Destination Unknown"}


def meaning(code: int) -> str:
    from pynetdicom.status import QR_MOVE_SERVICE_CLASS_STATUS

    return MEANINGS.get(code) or QR_MOVE_SERVICE_CLASS_STATUS.get(code, ("", "unknown status"))[1]
