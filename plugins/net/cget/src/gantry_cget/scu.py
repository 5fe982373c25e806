"""The C-GET SCU: ``peer.retrieve(level, keys, into=store)`` on a ``dicom://`` adapter.

The peer sends the matching instances back as C-STORE sub-operations on the *same* association,
so the association proposes the storage classes with SCP/SCU role selection (we are their SCP)
and binds a C-STORE handler for as long as the C-GET runs. Each instance is written durably into
``into`` (an instance store) before the peer hears success. Results are collected while the
association is lent, then handed back: one RetrieveResult per instance received, then a final one
with the peer's sub-operation counts. A failure status is a TransportError naming its meaning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from pydicom import Dataset
from pynetdicom import evt

from gantry import InstanceConflict, StorageError, TransportError
from gantry.transport import RetrieveResult
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

from gantry_cfind.scu import prepare_query
from gantry_cget.models import GET_SOP_CLASSES, offered_storage_classes
from gantry_cstore.scp import CANNOT_UNDERSTAND, OUT_OF_RESOURCES, SUCCESS, index_attributes
from gantry_dimse.services import AssociationLost, DimseChannel

PENDING = 0xFF00
CANCELLED = 0xFE00
WARNING = 0xB000
MESSAGE_ID = 1
#: One context per storage class (the 128-context limit allows no more), so native syntaxes only:
#: the peer must hold a context matching a *compressed* file's own syntax to send it, while any
#: native context can carry any native file. Compressed instances are not retrievable yet.
RECEIVED_SYNTAXES = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)


def get_scu(channel: DimseChannel, level: str, keys: Mapping[str, str], *, into: Any,
            model: str = "study") -> Iterator[RetrieveResult]:
    """Retrieve every instance matching ``keys`` at ``level`` into ``into`` (an instance store,
    or a folder opened as one through the adapter's kernel)."""
    identifier, _find_class = prepare_query(channel.url, level, keys, model)
    sop_class = GET_SOP_CLASSES[model]
    store = _instance_store(channel, into)
    storage_classes = offered_storage_classes()

    def retrieve(association: Any) -> list[RetrieveResult]:
        receiver = Receiver(store)
        association.bind(evt.EVT_C_STORE, receiver.handle_store)
        try:
            final = _send_get(association, identifier, sop_class, channel.url)
        finally:
            association.unbind(evt.EVT_C_STORE, receiver.handle_store)
        return [*receiver.results, final]

    return iter(channel.run((sop_class,), retrieve, contexts=[(uid, RECEIVED_SYNTAXES) for uid in storage_classes],
                            scp_roles=storage_classes))


class Receiver:
    """Handles the C-STORE sub-operations: each instance into the store, durably, or a failure."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.results: list[RetrieveResult] = []

    def handle_store(self, event: Any) -> int:
        data = event.encoded_dataset()  # as received: pixel data stays byte for byte
        sop_uid = str(event.request.AffectedSOPInstanceUID)
        try:
            attributes = index_attributes(data)  # gantry-cstore's header check, the same as its SCP's
            stored = self.store.put(data, study_uid=attributes["StudyInstanceUID"],
                                    series_uid=attributes["SeriesInstanceUID"], sop_uid=attributes["SOPInstanceUID"])
        except (ValueError, InstanceConflict) as err:
            return self._failed(sop_uid, CANNOT_UNDERSTAND, str(err) or "another instance has this SOP Instance UID")
        except (StorageError, OSError) as err:
            return self._failed(sop_uid, OUT_OF_RESOURCES, f"could not be written: {err}")
        self.results.append(RetrieveResult(sop_instance_uid=sop_uid, ok=True, location=stored.location,
                                           status=SUCCESS))
        return SUCCESS

    def _failed(self, sop_uid: str, status: int, reason: str) -> int:
        self.results.append(RetrieveResult(sop_instance_uid=sop_uid, ok=False, status=status, reason=reason))
        return status


def _send_get(association: Any, identifier: Dataset, sop_class: str, url: str) -> RetrieveResult:
    last: Dataset | None = None
    for status, _identifier in association.send_c_get(identifier, sop_class, msg_id=MESSAGE_ID):
        if "Status" not in status:
            raise AssociationLost(f"{url}: no C-GET response (the association ended or the DIMSE timeout passed)")
        last = status
        code = int(status.Status)
        if code == PENDING:
            continue
        if code in (SUCCESS, CANCELLED) or code == WARNING:
            return _final(status, ok=code == SUCCESS)
        raise TransportError(f"{url}: C-GET failed: {status_text(status)}")
    raise AssociationLost(f"{url}: the C-GET ended without a final status (last: {last})")


def _final(status: Dataset, *, ok: bool) -> RetrieveResult:
    def count(keyword: str) -> int | None:
        value = status.get(keyword)
        return None if value is None else int(value)

    code = int(status.Status)
    return RetrieveResult(ok=ok, status=code, reason=status_text(status), remaining=count("NumberOfRemainingSuboperations"),
                          completed=count("NumberOfCompletedSuboperations"), failed=count("NumberOfFailedSuboperations"),
                          warning=count("NumberOfWarningSuboperations"))


def status_text(status: Dataset) -> str:
    """``status 0xA701 (Out of resources: ...): <the peer's comment>``."""
    from pynetdicom.status import QR_GET_SERVICE_CLASS_STATUS

    code = int(status.Status)
    meaning = QR_GET_SERVICE_CLASS_STATUS.get(code, ("", "unknown status"))[1]
    comment = str(status.get("ErrorComment", "") or "").strip()
    return f"status 0x{code:04X} ({meaning})" + (f": {comment}" if comment else "")


def _instance_store(channel: DimseChannel, into: Any) -> Any:
    if into is None:
        raise TransportError(f"{channel.url}: C-GET needs `into`: an instance store or a folder")
    if not isinstance(into, (str, os.PathLike)):
        return into
    kernel = channel.kernel
    if kernel is None:
        from gantry.kernel import Kernel

        kernel = Kernel.from_config()
    return kernel.open_instance_store(os.fspath(into))
