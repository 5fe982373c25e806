"""The C-GET SCU: ``peer.retrieve(level, keys, into=store)`` on a ``dicom://`` adapter.

The peer sends the matching instances back as C-STORE sub-operations on the *same* association,
so the association proposes the storage classes with SCP/SCU role selection (we are their SCP):
native syntaxes for each, and for the common image classes the compressed syntaxes our codecs
decode, so compressed instances come as they are stored (see :mod:`gantry_cget.models`). It
binds a C-STORE handler for as long as the C-GET runs. Each instance is written durably into
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
from gantry.uids import NATIVE

from gantry_cfind.scu import prepare_query
from gantry_cget.models import GET_SOP_CLASSES, offered_contexts
from gantry.receiving import index_attributes
from gantry_cstore.scp import CANNOT_UNDERSTAND, OUT_OF_RESOURCES, SUCCESS, decodable_syntaxes
from gantry_dimse.services import AssociationLost, DimseChannel

PENDING = 0xFF00
CANCELLED = 0xFE00
WARNING = 0xB000
MESSAGE_ID = 1


def get_scu(channel: DimseChannel, level: str, keys: Mapping[str, str], *, into: Any,
            model: str = "study") -> Iterator[RetrieveResult]:
    """Retrieve every instance matching ``keys`` at ``level`` into ``into`` (an instance store,
    or a folder opened as one through the adapter's kernel)."""
    identifier, _find_class = prepare_query(channel.url, level, keys, model)
    sop_class = GET_SOP_CLASSES[model]
    kernel = _kernel(channel)
    store = _instance_store(kernel, channel.url, into)
    contexts = offered_contexts(uid for uid in decodable_syntaxes(kernel) if uid not in NATIVE)
    storage_classes = tuple(dict.fromkeys(uid for uid, _syntaxes in contexts))

    def retrieve(association: Any) -> list[RetrieveResult]:
        receiver = Receiver(store)
        association.bind(evt.EVT_C_STORE, receiver.handle_store)
        try:
            final = _send_get(association, identifier, sop_class, channel.url)
        finally:
            association.unbind(evt.EVT_C_STORE, receiver.handle_store)
        return [*receiver.results, final]

    return iter(channel.run((sop_class,), retrieve, contexts=contexts, scp_roles=storage_classes))


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
    # pynetdicom has no text for Success: without the fallback a final reason read "status 0x0000 ()".
    meaning = QR_GET_SERVICE_CLASS_STATUS.get(code, ("", "unknown status"))[1] or ("Success" if code == SUCCESS else "")
    comment = str(status.get("ErrorComment", "") or "").strip()
    return f"status 0x{code:04X} ({meaning})" + (f": {comment}" if comment else "")


def _instance_store(kernel: Any, url: str, into: Any) -> Any:
    if into is None:
        raise TransportError(f"{url}: C-GET needs `into`: an instance store or a folder")
    if not isinstance(into, (str, os.PathLike)):
        return into
    return kernel.open_instance_store(os.fspath(into))


def _kernel(channel: DimseChannel) -> Any:
    """The adapter's kernel (its codecs say which compressed syntaxes to offer), or the site's."""
    if channel.kernel is not None:
        return channel.kernel
    from gantry.kernel import Kernel

    return Kernel.from_config()
