"""The C-STORE SCP: received instances go durably into the instance store and the index, and
only then does the peer hear "success".

For each C-STORE, in the thread that read it (``gantry_dimse.direct_store``; the association's
thread for the few that path leaves to pynetdicom):

1. the dataset's bytes as received (with a File Meta header as pynetdicom builds it) are kept
   without decoding and re-encoding them, so pixel data and private elements stay byte for byte;
2. its header is read (no pixel data) for the index attributes; unreadable -> 0xC000;
3. and 4. ``gantry.receiving.keep_received``: the store writes the file atomically and durably
   (fsync), then one transaction indexes it and appends an audit row; a failed write -> 0xA700,
   a failed index removes the file again (nothing half-written) -> 0xA700;
5. 0x0000; ``gantry_instance_stored`` is queued for the listener's background worker
   (``gantry_dimse.notifications``), so a slow hook never delays the response.

An association aborted mid-transfer never reaches step 1: either path calls the handler only
with a complete dataset, so it leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from pydicom import Dataset
from pynetdicom import evt

from gantry import InstanceConflict, StorageError
from gantry.receiving import index_attributes, keep_received
from gantry.sources import DEFAULT_STORE
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, NATIVE, SHORT_NAMES

from gantry_cstore.received import part10_pieces, received_part10
from gantry_cstore.settings import StoreSettings
from gantry_dimse.direct_store import StoreRequest
from gantry_dimse.notifications import emit_later
from gantry_dimse.services import ScpRole, failure_status

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
#: ErrorComment is an LO: at most 64 characters.


class StoreScp:
    """Answers C-STORE requests into ``backend`` and ``store`` (see the module docstring)."""

    def __init__(self, backend: Any, store: Any, *, kernel: Any = None, overwrite: bool = False) -> None:
        self.backend = backend
        self.store = store
        self.kernel = kernel
        self.overwrite = overwrite
        self.received = 0
        """Instances acknowledged with success so far."""

    def handle_store(self, event: Any) -> int | Dataset:
        """pynetdicom's ``EVT_C_STORE`` handler: the requests the direct path leaves to pynetdicom."""
        data = received_part10(event)  # preamble, File Meta and the dataset as received
        return self._keep(event, event.assoc, data)

    def store_directly(self, request: StoreRequest) -> int | Dataset:
        """The handler of ``gantry_dimse.direct_store``: most requests come this way."""
        pieces = part10_pieces(request.sop_class_uid, request.sop_instance_uid, request.transfer_syntax,
                               request.fragments)
        return self._keep(request, request.assoc, pieces)

    def _keep(self, source: Any, assoc: Any, data: bytes | tuple[Any, ...]) -> int | Dataset:
        """Steps 2 to 5 of the module docstring for ``data`` (a Part 10 file's bytes, whole or in
        pieces); ``source`` (the event or request) is what ``emit_later`` finds the listener by."""
        calling_ae = str(assoc.requestor.ae_title).strip()
        try:
            attributes = index_attributes(data, self.kernel)
        except ValueError as err:
            return failure_status(CANNOT_UNDERSTAND, str(err))
        detail = {"called_ae": str(assoc.acceptor.ae_title).strip(), "peer": str(assoc.requestor.address)}
        try:
            record, _stored = keep_received(self.backend, self.store, data, attributes, actor=f"dicom:{calling_ae}",
                                            detail=detail, replace=self.overwrite)
        except InstanceConflict:
            return failure_status(CANNOT_UNDERSTAND, "another instance with this SOP Instance UID is stored")
        except StorageError as err:  # WriteFailed or IndexFailed: logged, nothing left behind
            return failure_status(OUT_OF_RESOURCES, str(err))
        self.received += 1
        # Queued for the listener's background worker: a slow hook never delays this response.
        emit_later(source, self.kernel, "gantry_instance_stored", instance=record)
        return SUCCESS

    def role(self, sop_classes: tuple[str, ...], transfer_syntaxes: tuple[str, ...]) -> ScpRole:
        return ScpRole(service="C-STORE", abstract_syntaxes=sop_classes, transfer_syntaxes=transfer_syntaxes,
                       handlers=((evt.EVT_C_STORE, self.handle_store),), close=self.close,
                       direct_store=self.store_directly)

    def close(self) -> None:
        """Close the backend (once: a listener may be stopped twice)."""
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def store_scp(kernel: Any) -> ScpRole:
    """The role ``gantry listen`` adds: the site's ``storage.database`` and ``storage.store``
    (``gantry-store`` in the working directory when that is empty), ``[cstore]`` settings."""
    settings = StoreSettings.from_mapping(kernel.settings("cstore") if "cstore" in kernel.records else None)
    backend = kernel.open_storage(kernel.config.storage.database)
    try:
        store = kernel.open_instance_store(kernel.config.storage.store or DEFAULT_STORE)
    except BaseException:
        backend.close()
        raise
    scp = StoreScp(backend, store, kernel=kernel, overwrite=settings.overwrite)
    return scp.role(storage_sop_classes(settings.extra_sop_classes),
                    settings.transfer_syntaxes or decodable_syntaxes(kernel))


def storage_sop_classes(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every storage SOP class pynetdicom knows, plus ``extra`` (private ones, by UID), which are
    registered with pynetdicom's Storage service so its C-STOREs reach our handler."""
    from pynetdicom import register_uid
    from pynetdicom.presentation import AllStoragePresentationContexts
    from pynetdicom.service_class import StorageServiceClass

    known = [str(context.abstract_syntax) for context in AllStoragePresentationContexts]
    for uid in extra:
        if uid not in known:
            register_uid(uid, f"GantryStorage_{uid.replace('.', '_')}", StorageServiceClass)
            known.append(uid)
    return tuple(known)


def decodable_syntaxes(kernel: Any) -> tuple[str, ...]:
    """Every named compressed syntax an installed codec can decode, then the native ones.

    pynetdicom accepts, for each proposed context, the first syntax of *this* list the requestor
    offers: compressed first keeps a compressed file's bytes as the modality made them (requestors
    propose a file's own syntax), instead of making the sender decompress it.
    """
    compressed = [uid for uid in SHORT_NAMES.values()
                  if uid not in NATIVE and kernel.active("decoder", uid) is not None]
    native = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN,
              *sorted(NATIVE - {EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN})]
    return tuple(compressed + native)
