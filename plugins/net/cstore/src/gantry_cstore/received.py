"""A received C-STORE's bytes as a DICOM file, without pydicom.

``Event.encoded_dataset()`` builds the File Meta through pydicom's writer: a sixth of the whole
receiving side's CPU per small instance. The group is six short elements, so it is written here
directly; ``test_cstore_received`` holds the bytes equal to pynetdicom's.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION

PREAMBLE = b"\x00" * 128 + b"DICM"


def received_part10(event: Any) -> bytes:
    """Preamble, File Meta (as pynetdicom's ``Event.file_meta`` has it) and the dataset as received."""
    request = event.request
    return b"".join(part10_pieces(str(request.AffectedSOPClassUID), str(request.AffectedSOPInstanceUID),
                                  str(event.context.transfer_syntax), (request.DataSet.getbuffer(),)))


def part10_pieces(sop_class_uid: str, sop_instance_uid: str, transfer_syntax_uid: str,
                  dataset: Iterable[bytes | memoryview]) -> tuple[bytes | memoryview, ...]:
    """Preamble and File Meta, then the dataset's pieces as received: a Part 10 file in pieces
    (``Kernel.scan`` and ``keep_received`` take it so; a 50 MB instance is never joined)."""
    return (PREAMBLE + file_meta_group(sop_class_uid, sop_instance_uid, transfer_syntax_uid), *dataset)


def file_meta_group(sop_class_uid: str, sop_instance_uid: str, transfer_syntax_uid: str,
                    implementation_uid: str = PYNETDICOM_IMPLEMENTATION_UID,
                    implementation_version: str = PYNETDICOM_IMPLEMENTATION_VERSION) -> bytes:
    """Group 0002 in Explicit VR Little Endian, its group length first."""
    elements = b"".join((
        _long(0x0001, b"OB", b"\x00\x01"),
        _short(0x0002, b"UI", _padded(sop_class_uid, b"\x00")),
        _short(0x0003, b"UI", _padded(sop_instance_uid, b"\x00")),
        _short(0x0010, b"UI", _padded(transfer_syntax_uid, b"\x00")),
        _short(0x0012, b"UI", _padded(implementation_uid, b"\x00")),
        _short(0x0013, b"SH", _padded(implementation_version, b" ")),
    ))
    return _short(0x0000, b"UL", struct.pack("<I", len(elements))) + elements


def _padded(text: str, pad: bytes) -> bytes:
    value = text.encode("ascii")
    return value + pad if len(value) % 2 else value


def _short(element: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH2sH", 0x0002, element, vr, len(value)) + value


def _long(element: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH2sHI", 0x0002, element, vr, 0, len(value)) + value
