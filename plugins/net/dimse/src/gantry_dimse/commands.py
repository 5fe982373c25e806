"""DIMSE command sets encoded and split into elements directly, not through pydicom's writer and reader.

Every DIMSE message starts with a command set: a dozen group 0000 elements in Implicit VR
Little Endian (PS3.7 6.3.1, Annex E). pynetdicom encodes each one with pydicom's
``write_dataset``, twice (once to learn the group length), and decodes each received one with
``read_dataset``. For a small C-STORE that was a fifth of the receiving side's CPU: the request
decoded, the response encoded twice; the sender pays the same in the other direction.

:func:`install` replaces the ``encode`` and ``decode`` that ``pynetdicom.dimse_messages`` uses
(for command sets only; identifiers and datasets go through ``pynetdicom.dsutils`` unchanged):

- :func:`encode_command_set` writes the elements itself when every one is of group 0000 and of
  a VR it knows (the numbers, the strings, AT); otherwise it is pydicom's ``encode``. The
  bytes are pydicom's, which ``test_dimse_commands`` checks for every message type.
- :func:`decode_command_set` splits the bytes into pydicom's own ``RawDataElement``\\ s, so each
  value is converted by pydicom, as before, when pynetdicom reads it; anything unusual (an
  undefined length, a length past the end) goes to pydicom's ``decode`` for its behaviour and
  its errors.
"""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pynetdicom import dimse_messages as _dimse_messages
from pynetdicom import dsutils

_ELEMENT_HEADER = struct.Struct("<HHI")  # group, element, value length (Implicit VR LE)
_UNDEFINED_LENGTH = 0xFFFFFFFF
_NUMBERS = {"US": struct.Struct("<H"), "UL": struct.Struct("<I"), "SS": struct.Struct("<h"), "SL": struct.Struct("<l")}
_TEXT = frozenset({"AE", "SH", "LO", "CS", "ST", "LT", "DA", "TM", "DT", "IS", "DS"})


class _NotSimple(Exception):
    """An element this encoder leaves to pydicom."""


def encode_command_set(ds: Dataset, is_implicit_vr: bool, is_little_endian: bool,
                       deflated: bool = False) -> bytes | None:
    """``pynetdicom.dsutils.encode``, written directly for a plain command set."""
    if is_implicit_vr and is_little_endian and not deflated:
        try:
            return b"".join(_encode_element(element) for element in ds)
        except _NotSimple:
            pass
    return dsutils.encode(ds, is_implicit_vr, is_little_endian, deflated)


def _encode_element(element: Any) -> bytes:
    tag = int(element.tag)
    if tag >> 16:
        raise _NotSimple
    value = _encode_value(element.VR, element.value)
    return _ELEMENT_HEADER.pack(0, tag & 0xFFFF, len(value)) + value


def _encode_value(vr: str, value: Any) -> bytes:
    if value is None or (isinstance(value, (str, list, MultiValue)) and not value):
        return b""
    if isinstance(value, tuple):  # an AT as (group, element), or a tuple of values: pydicom's rules
        raise _NotSimple
    values = list(value) if isinstance(value, (list, MultiValue)) else [value]
    number = _NUMBERS.get(vr)
    if number is not None:
        if not all(type(item) is int for item in values):
            raise _NotSimple
        return b"".join(number.pack(item) for item in values)
    if vr == "AT":
        if not all(isinstance(item, int) for item in values):
            raise _NotSimple
        return b"".join(struct.pack("<HH", item >> 16, item & 0xFFFF) for item in values)
    if vr == "UI" or vr in _TEXT:
        if not all(isinstance(item, str) for item in values):
            raise _NotSimple
        try:
            text = "\\".join(values).encode("ascii")
        except UnicodeEncodeError:
            raise _NotSimple from None
        if len(text) % 2:
            text += b"\x00" if vr == "UI" else b" "
        return text
    raise _NotSimple


def decode_command_set(bytestring: BytesIO, is_implicit_vr: bool, is_little_endian: bool,
                       deflated: bool = False) -> Dataset:
    """``pynetdicom.dsutils.decode``: the command set's elements as pydicom reads them, unconverted."""
    if is_implicit_vr and is_little_endian and not deflated:
        data = bytestring.getvalue()
        elements = split_command_set(data)
        if elements is not None:
            return Dataset(elements)
    return dsutils.decode(bytestring, is_implicit_vr, is_little_endian, deflated)


def split_command_set(data: bytes) -> dict[BaseTag, RawDataElement] | None:
    """The elements of an encoded command set, unconverted; None when it is not a plain one."""
    elements: dict[BaseTag, RawDataElement] = {}
    offset, end = 0, len(data)
    header = _ELEMENT_HEADER
    while offset < end:
        if end - offset < 8:
            return None
        group, number, length = header.unpack_from(data, offset)
        offset += 8
        if length == _UNDEFINED_LENGTH or offset + length > end:
            return None
        tag = BaseTag(group << 16 | number)
        elements[tag] = RawDataElement(tag, None, length, data[offset:offset + length], offset, True, True)
        offset += length
    return elements


def command_set_bytes(elements: list[tuple[int, str, Any]]) -> bytes:
    """An encoded command set from ``(element number, VR, value)`` in ascending order, its group
    length first (what pynetdicom would encode for the same values)."""
    body = b"".join(_ELEMENT_HEADER.pack(0, number, len(value)) + value
                    for number, value in ((number, _encode_value(vr, value)) for number, vr, value in elements))
    return _ELEMENT_HEADER.pack(0, 0, 4) + struct.pack("<I", len(body)) + body


#: Message Control Header bits (PS3.8 E.2): command (1) or dataset (0); last fragment (2).
COMMAND, LAST = 0x01, 0x02
_PDV_HEADER = struct.Struct(">IBB")  # item length, presentation context ID, message control header
_PDU_HEADER = struct.Struct(">BBI")  # P-DATA-TF (0x04), reserved, length


def pdata_header(context_id: int, control: int, length: int) -> bytes:
    """The first bytes of a P-DATA-TF PDU holding one PDV of ``length`` bytes (they follow)."""
    return _PDU_HEADER.pack(0x04, 0, length + 6) + _PDV_HEADER.pack(length + 2, context_id, control)


def whole_command(data: bytes) -> dict[BaseTag, RawDataElement] | None:
    """The elements of a PDV's data when it is a whole command set (its only, last fragment)."""
    if len(data) < 2 or data[0] & (COMMAND | LAST) != COMMAND | LAST:
        return None
    return split_command_set(bytes(data[1:]))


def us_value(element: RawDataElement) -> int:
    """An unconverted US element's value (struct.error when it is not one)."""
    return struct.unpack("<H", element.value)[0]


def ui_value(element: RawDataElement) -> str:
    """An unconverted UI (or text) element's value, without its padding."""
    return element.value.decode("ascii").rstrip("\x00 ")


def install() -> None:
    """Idempotent: pynetdicom's DIMSE messages use these for their command sets from now on."""
    _dimse_messages.encode = encode_command_set
    _dimse_messages.decode = decode_command_set
