"""Sources a reader accepts (a path, bytes, a seekable binary stream): naming and peeking.

Shared by the kernel (to choose readers from the first bytes) and by reader plugins (to name
the source in their errors the same way).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gantry.errors import ReaderError


def describe_source(source: Any) -> str:
    """How errors name a source: the quoted path, ``<N bytes>``, or the stream's name."""
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    return repr(getattr(source, "name", f"<{type(source).__name__}>"))


def peek(source: Any, size: int) -> tuple[str, bytes]:
    """``(kind, first bytes)`` of a source, kind being "path", "bytes" or "stream".

    A stream is left where it was. Anything else is a ReaderError saying what was expected.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "bytes", bytes(source[:size])
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                return "path", handle.read(size)
        except OSError as err:
            raise ReaderError(f"{describe_source(source)}: cannot open: {err.strerror or err}") from err
    if hasattr(source, "read") and hasattr(source, "seek"):
        try:
            start = source.tell()
            head = source.read(size)
            source.seek(start)
        except (OSError, ValueError) as err:  # io.UnsupportedOperation is both
            raise ReaderError(f"{describe_source(source)}: cannot read: the stream is not seekable "
                              f"or is closed ({err})") from err
        return "stream", bytes(head)
    raise ReaderError(f"cannot read a {type(source).__name__}: give a path, bytes or a seekable binary stream")


#: Where received and retrieved instances go when neither an option nor ``storage.store`` says:
#: a folder of this name in the working directory.
DEFAULT_STORE = "gantry-store"


class NoInstanceFile(ValueError):
    """An indexed instance whose file cannot be sent: ``source`` and ``sop_uid`` say which."""

    def __init__(self, reason: str, *, source: str, sop_uid: str) -> None:
        super().__init__(reason)
        self.source = source
        self.sop_uid = sop_uid


def store_folder(kernel: Any) -> str:
    """The folder of the site's instance store (``storage.store``, else :data:`DEFAULT_STORE`),
    where relative index locations are; empty for a store that is not a folder."""
    from urllib.parse import unquote, urlparse

    try:
        store = str(kernel.config.storage.store or DEFAULT_STORE)
    except AttributeError:
        return ""
    if store.startswith("file://"):
        return unquote(urlparse(store).path)
    return "" if "://" in store else os.path.abspath(store)


def instance_file(source: Any, folder: str = "") -> str:
    """The file of an indexed instance — an index row, an :class:`gantry.storage.IndexRecord`, a
    model Instance, a StoredInstance, anything with a ``location`` — relative locations under
    ``folder``. :class:`NoInstanceFile` says why there is none."""
    if isinstance(source, Mapping):  # an index row
        location, sop_uid = str(source.get("location") or ""), str(source.get("SOPInstanceUID") or "")
    else:
        location = str(getattr(source, "location", "") or "")
        attributes = getattr(source, "attributes", None) or {}
        sop_uid = str(getattr(source, "sop_instance_uid", "") or attributes.get("SOPInstanceUID", ""))
    if not location:
        raise NoInstanceFile("the index gives no location for this instance",
                             source=sop_uid or type(source).__name__, sop_uid=sop_uid)
    if not os.path.isabs(location) and folder:
        location = os.path.join(folder, location)
    if not os.path.isfile(location):
        raise NoInstanceFile("the indexed file is missing (moved or deleted since it was indexed)",
                             source=location, sop_uid=sop_uid)
    return location


#: What a sender reads of each file: enough to choose a presentation context, or a part's type.
SEND_KEYWORDS = ("SOPClassUID", "SOPInstanceUID", "TransferSyntaxUID")


def sendable_header(kernel: Any, source: str | bytes, shown: str) -> dict[str, str] | Any:
    """:data:`SEND_KEYWORDS` of a file to send (its path or its bytes), or the
    :class:`gantry.transport.StoreResult` saying why it cannot be sent (``shown`` names it there):
    not DICOM, unreadable, damaged, or without its SOP Class or Instance UID. A bad file is one
    failed result, never the end of a send. With a kernel its fast scan; pydicom otherwise."""
    from gantry.errors import NotDicomError
    from gantry.transport import StoreResult

    try:
        if kernel is not None:
            header = dict(kernel.scan(source, SEND_KEYWORDS))
        else:
            header = _pydicom_header(source)
    except NotDicomError:
        return StoreResult(source=shown, reason="not a DICOM file")
    except OSError as err:
        return StoreResult(source=shown, reason=f"cannot read: {err.strerror or err}")
    except Exception as err:
        return StoreResult(source=shown, reason=f"unreadable DICOM: {err}")
    missing = [keyword for keyword in ("SOPClassUID", "SOPInstanceUID") if not header.get(keyword)]
    if missing:
        return StoreResult(source=shown, sop_instance_uid=header.get("SOPInstanceUID", ""),
                           reason=f"no {' and no '.join(missing)}: not a storable instance")
    return header


def _pydicom_header(source: str | bytes) -> dict[str, str]:
    import io

    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    from gantry.errors import NotDicomError

    try:
        dataset = dcmread(io.BytesIO(source) if isinstance(source, bytes) else source, stop_before_pixels=True)
    except InvalidDicomError as err:
        raise NotDicomError(str(err)) from err
    meta = getattr(dataset, "file_meta", None)
    return {"SOPClassUID": str(dataset.get("SOPClassUID", "")), "SOPInstanceUID": str(dataset.get("SOPInstanceUID", "")),
            "TransferSyntaxUID": str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""}
