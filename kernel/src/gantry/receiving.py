"""Keeping a received instance: what every receiving service does the same way (the C-STORE SCP,
STOW-RS, ...), so that none answers "stored" for an instance that is not.

1. the instance store writes the file atomically and durably (``put`` for bytes, ``put_file``
   for a spooled file);
2. one transaction indexes it and appends an audit row (``received``, by ``actor``);
3. if that fails, the file written in step 1 is removed: nothing is left half-kept.

:func:`index_attributes` reads what step 2 needs from the instance's header first, the same way
for every receiver (the kernel's fast scan, on a path, bytes or PDU pieces).

The caller maps the outcome to its protocol's answer: :class:`gantry.InstanceConflict` (other
bytes already stored under the SOP Instance UID; nothing written), :class:`WriteFailed` and
:class:`IndexFailed` (both logged here with the details as patient data).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

from gantry.errors import InstanceConflict, StorageError
from gantry.log import Phi, get_logger
from gantry.storage import SCAN_KEYWORDS, AuditEvent, IndexRecord, StoredInstance

log = get_logger(__name__)

__all__ = ["IndexFailed", "InstanceConflict", "REQUIRED_UIDS", "WriteFailed", "index_attributes", "keep_received"]

#: What an instance must have to be kept: the index and the store are keyed by them.
REQUIRED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


class WriteFailed(StorageError):
    """The instance store could not write the instance."""


class IndexFailed(StorageError):
    """The instance was written but could not be indexed; the file was removed again."""


def index_attributes(source: bytes | list[Any] | tuple[Any, ...] | str | os.PathLike[str], kernel: Any = None,
                     keywords: tuple[str, ...] = SCAN_KEYWORDS) -> dict[str, str]:
    """The ``keywords`` of a received instance (its path, its bytes, or its bytes in consecutive
    pieces) as index text; ValueError when it is unreadable or lacks one of REQUIRED_UIDS. With
    a kernel its readers' fast header scan; pydicom otherwise."""
    try:
        if kernel is not None:
            attributes = dict(kernel.scan(source, keywords))
        else:
            from pydicom import dcmread

            from gantry.header import text_values

            if isinstance(source, list | tuple):
                source = b"".join(source)
            readable = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
            attributes = text_values(dcmread(readable, stop_before_pixels=True), keywords)
    except Exception as err:
        raise ValueError(f"unreadable dataset: {type(err).__name__}") from err
    missing = [keyword for keyword in REQUIRED_UIDS if not attributes.get(keyword)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    return attributes


def keep_received(backend: Any, store: Any, source: bytes | list[Any] | tuple[Any, ...] | str | os.PathLike[str],
                  attributes: Mapping[str, str], *, actor: str, detail: Mapping[str, Any] | None = None,
                  replace: bool = False) -> tuple[IndexRecord, StoredInstance]:
    """Steps 1-3 of the module docstring for an instance whose header was read into
    ``attributes`` (its three UIDs at least): ``(the index record, the stored file)``.
    ``source`` is the file's bytes, whole or as a list or tuple of consecutive pieces (written
    one after the other, never joined), or the path of a spooled file."""
    uids = {"study_uid": attributes["StudyInstanceUID"], "series_uid": attributes["SeriesInstanceUID"],
            "sop_uid": attributes["SOPInstanceUID"]}
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            stored = store.put(source, replace=replace, **uids)
        elif isinstance(source, list | tuple):
            stored = store.put(iter(source), replace=replace, **uids)
        else:
            stored = store.put_file(os.fspath(source), replace=replace, **uids)
    except InstanceConflict:
        raise
    except (StorageError, OSError) as err:
        log.error("receiving.write_failed", actor=actor, error=Phi(f"{type(err).__name__}: {err}"))
        raise WriteFailed("the instance could not be written") from err
    record = IndexRecord(attributes=dict(attributes), location=stored.location, size=stored.size,
                         transfer_syntax_uid=attributes.get("TransferSyntaxUID", ""), digest=stored.digest)
    try:
        with backend.transaction():
            backend.index([record])
            backend.audit([AuditEvent(
                actor=actor, action="received", sop_instance_uid=attributes["SOPInstanceUID"],
                detail={**(detail or {}), "size": stored.size, "transfer_syntax": record.transfer_syntax_uid,
                        "already_stored": stored.existed})])
    except Exception as err:  # nobody may hear "stored" for an instance the index lacks
        log.error("receiving.index_failed", actor=actor, error=Phi(f"{type(err).__name__}: {err}"))
        if not stored.existed:
            store.delete(stored.location)
        raise IndexFailed("the instance could not be indexed") from err
    return record, stored
