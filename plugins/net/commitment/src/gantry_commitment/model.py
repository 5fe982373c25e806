"""What both sides share: the SOP class and instance, the result, and the datasets on the wire."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
from pydicom.dataset import Dataset

#: Storage Commitment Push Model SOP Class and its well-known SOP Instance (PS3.4 J.3).
STORAGE_COMMITMENT_SOP_CLASS = "1.2.840.10008.1.20.1"
STORAGE_COMMITMENT_SOP_INSTANCE = "1.2.840.10008.1.20.1.1"

#: N-ACTION Action Type ID: Request Storage Commitment.
REQUEST_COMMITMENT = 1
#: N-EVENT-REPORT Event Type IDs: every instance committed / some failed.
ALL_COMMITTED = 1
SOME_FAILED = 2

#: Failure Reason (0008,1197) values (PS3.3 C.14.1.1).
PROCESSING_FAILURE = 0x0110
NO_SUCH_OBJECT_INSTANCE = 0x0112
CLASS_INSTANCE_CONFLICT = 0x0119

REASONS = {PROCESSING_FAILURE: "processing failure", NO_SUCH_OBJECT_INSTANCE: "no such object instance",
           CLASS_INSTANCE_CONFLICT: "class-instance conflict"}


@attrs.frozen(kw_only=True)
class Failure:
    sop_class_uid: str
    sop_instance_uid: str
    reason: int

    @property
    def reason_text(self) -> str:
        return REASONS.get(self.reason, f"failure reason 0x{self.reason:04X}")


@attrs.frozen(kw_only=True)
class CommitmentResult:
    transaction_uid: str
    committed: tuple[tuple[str, str], ...]
    """``(sop_class_uid, sop_instance_uid)`` the peer has committed to keep."""
    failed: tuple[Failure, ...]

    @property
    def ok(self) -> bool:
        return not self.failed


def reference_sequence(references: Iterable[tuple[str, str]]) -> list[Dataset]:
    items = []
    for class_uid, instance_uid in references:
        item = Dataset()
        item.ReferencedSOPClassUID = class_uid
        item.ReferencedSOPInstanceUID = instance_uid
        items.append(item)
    return items


def references_of(sequence: Sequence[Dataset] | None) -> list[tuple[str, str]]:
    return [(str(item.get("ReferencedSOPClassUID", "") or ""), str(item.get("ReferencedSOPInstanceUID", "") or ""))
            for item in sequence or ()]
