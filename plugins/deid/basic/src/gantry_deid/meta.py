"""The File Meta Information of a de-identified file, rebuilt from nothing (PS3.15 E.1.1).

Only what PS3.10 requires and what describes Gantry is written: File Meta Information Version,
Media Storage SOP Class and Instance UIDs taken from the de-identified dataset (so the instance
UID is the one U gave), the original Transfer Syntax, and Gantry's Implementation Class UID and
Version Name. Source / Sending / Receiving Application Entity Titles, Source Presentation
Address, Private Information and anything else of the original meta is dropped. The 128-byte
preamble is written as zeros by :mod:`gantry_deid.encoder`.

``IMPLEMENTATION_CLASS_UID`` is a UUID-derived UID (PS3.5 B.2) under the 2.25 root, fixed
forever for gantry-deid: ``uuid5(NAMESPACE_URL, "urn:gantry:gantry-deid:implementation-class")``
as a decimal integer. A new major version of the writer may get a new one; the version name says
which release wrote the file.
"""

from __future__ import annotations

from typing import Any

import re

from gantry import DeidError
from pydicom import config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import FileMetaDataset
from pydicom.tag import BaseTag
from pydicom.uid import UID

IMPLEMENTATION_CLASS_UID = "2.25.331691330864499076503740030613141460570"
IMPLEMENTATION_VERSION_NAME = "GANTRY_DEID_0_1"
SOP_CLASS_UID = 0x00080016
SOP_INSTANCE_UID = 0x00080018


def build_file_meta(dataset: Any, transfer_syntax: str, where: str) -> FileMetaDataset:
    """File Meta for the de-identified ``dataset``; DeidError when it has no SOP Class/Instance UID."""
    uids = [_single_uid(dataset, tag, name, where)
            for tag, name in ((SOP_CLASS_UID, "SOP Class UID"), (SOP_INSTANCE_UID, "SOP Instance UID"))]
    meta = FileMetaDataset()
    for tag, vr, value in ((0x00020001, "OB", b"\x00\x01"), (0x00020002, "UI", uids[0]),
                           (0x00020003, "UI", uids[1]), (0x00020010, "UI", _uid(transfer_syntax)),
                           (0x00020012, "UI", _IMPLEMENTATION_CLASS_UID),
                           (0x00020013, "SH", IMPLEMENTATION_VERSION_NAME)):
        # Values are typed already (UIDs checked once): no conversion, no second validation.
        meta._dict[BaseTag(tag)] = DataElement(tag, vr, value, already_converted=True)
    return meta


def _uid(text: str) -> UID:
    return UID(text, config.IGNORE)


_IMPLEMENTATION_CLASS_UID = _uid(IMPLEMENTATION_CLASS_UID)


def _single_uid(dataset: Any, tag: int, name: str, where: str) -> UID:
    """The dataset's one UID in ``tag``, read without decoding the element in place."""
    element = dataset._dict.get(tag)
    if type(element) is RawDataElement:
        value: Any = element.value.decode("ascii", "replace").strip("\x00 ") if element.value else ""
    else:
        value = element.value if element is not None else None
    if not value or not isinstance(value, str) or "\\" in value:
        raise DeidError(f"{where}: the de-identified dataset has no single {name} ({tag >> 16:04X},"
                        f"{tag & 0xFFFF:04X}); a DICOM file needs one")
    if not _UID.match(value):
        raise DeidError(f"{where}: the de-identified {name} is not a valid UID")
    return value if isinstance(value, UID) else _uid(value)


_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
