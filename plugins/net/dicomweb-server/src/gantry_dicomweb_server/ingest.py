"""One received instance, durably stored and indexed, the way the C-STORE SCP does it
(``gantry_cstore.scp.StoreScp.handle_store``), with the same kernel calls and the same order:

1. its header is scanned (``gantry.receiving.index_attributes``, no pixel data); unreadable
   or without its three UIDs -> 0xC000;
2. and 3. ``gantry.receiving.keep_received``, as the C-STORE SCP: the instance store writes the
   file atomically and durably (``put_file``), then one transaction indexes it and appends an
   audit row (actor ``dicomweb:<client>``, action ``received``); a SOP Instance UID already
   stored with different bytes -> 0x0111 (unless ``overwrite``), a failed write -> 0xA700, a
   failed index removes the file again -> 0xA700.

Only after step 3 is the instance counted as stored (and only then does the STOW-RS answer name
it in ReferencedSOPSequence).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import InstanceConflict, StorageError
from gantry.receiving import keep_received
from gantry.storage import IndexRecord

PROCESSING_FAILURE = 0x0110
DUPLICATE_SOP_INSTANCE = 0x0111
OUT_OF_RESOURCES = 0xA700
DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000


@attrs.frozen(kw_only=True)
class IngestOutcome:
    ok: bool
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    failure_reason: int = 0
    message: str = ""
    record: IndexRecord | None = None


def ingest_file(kernel: Any, backend: Any, store: Any, path: str, attributes: Mapping[str, str], *,
                client: str, overwrite: bool = False) -> IngestOutcome:
    """Steps 2 and 3 of the module docstring for a file whose header was scanned."""
    try:
        record, _stored = keep_received(backend, store, path, attributes, actor=f"dicomweb:{client}",
                                        detail={"service": "STOW-RS"}, replace=overwrite)
    except InstanceConflict:
        return IngestOutcome(ok=False, attributes=attributes, failure_reason=DUPLICATE_SOP_INSTANCE,
                             message="another instance with this SOP Instance UID is stored")
    except StorageError as err:  # WriteFailed or IndexFailed: logged, nothing left behind
        return IngestOutcome(ok=False, attributes=attributes, failure_reason=OUT_OF_RESOURCES, message=str(err))
    return IngestOutcome(ok=True, attributes=attributes, record=record)
