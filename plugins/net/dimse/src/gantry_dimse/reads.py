"""Reading PDUs in as few system calls, and P-DATA with as few copies, as the data allow.

pynetdicom's ``AssociationSocket.recv(n)`` reads a PDU's body 4 KiB at a time into a growing
``bytearray``: a 50 MB instance costs 12,800 ``recv`` calls, and that loop, not the network,
bounded how fast a large instance arrived. :func:`read_whole_pdus` gives an association's
socket wrapper a ``recv`` with the same contract (exactly ``n`` bytes, fewer only when the peer
closed the connection; timeouts and errors raised as before) that reads straight into a buffer
of the PDU's size, as much as the kernel has each time.

:func:`decode_pdata_in_place` then spares a P-DATA-TF PDU three of pynetdicom's copies: its
``_decode_pdu`` copies the PDU into ``bytes``, slices its body off, and slices each PDV out of
that. For a 50 MB instance that was about a fifth of a receiver's CPU. Here each PDV's data is a
``memoryview`` into the PDU as read (pynetdicom's DIMSE decoding and Gantry's direct C-STORE path
only index, slice and write it). Every other PDU type is pynetdicom's to decode, as before.
"""

from __future__ import annotations

import struct
from typing import Any

from pynetdicom.pdu import P_DATA_TF
from pynetdicom.pdu_items import PresentationDataValueItem

P_DATA_TF_TYPE = 0x04
_PDV_HEADER = struct.Struct(">IB")  # item length, presentation context ID


def read_whole_pdus(wrapper: Any) -> None:
    """Replace ``wrapper.recv`` (a pynetdicom ``AssociationSocket``'s) with :func:`read_exactly`."""
    if wrapper is not None:
        wrapper.recv = lambda nr_bytes: read_exactly(wrapper.socket, nr_bytes)


def read_exactly(sock: Any, nr_bytes: int) -> bytearray:
    """``nr_bytes`` from ``sock``; fewer when the peer closes the connection first."""
    buffer = bytearray(nr_bytes)
    view = memoryview(buffer)
    received = 0
    try:
        while received < nr_bytes:
            count = sock.recv_into(view[received:], nr_bytes - received)
            if not count:  # the connection closed: what arrived, as pynetdicom's recv returns it
                break
            received += count
    finally:
        view.release()  # before a resize: a bytearray with a live view cannot change size
    if received < nr_bytes:
        del buffer[received:]
    return buffer


def decode_pdata_in_place(dul: Any) -> None:
    """Give a pynetdicom DUL a ``_decode_pdu`` that decodes P-DATA-TF PDUs without copying."""
    decode = dul._decode_pdu

    def decode_pdu(bytestream: bytearray) -> tuple[Any, str]:
        if bytestream[0] != P_DATA_TF_TYPE:
            return decode(bytestream)
        pdu = P_DATA_TF()
        pdu.presentation_data_value_items = pdv_items(bytestream)
        return pdu, "Evt10"  # P-DATA-TF PDU received

    dul._decode_pdu = decode_pdu


def pdv_items(bytestream: bytearray) -> list[PresentationDataValueItem]:
    """The PDV items of a whole P-DATA-TF PDU (header included), their data as views into it.
    ValueError when an item is shorter than its header or runs past the PDU's end (pynetdicom
    answers that as an invalid PDU)."""
    view = memoryview(bytestream)
    items, offset, end = [], 6, len(bytestream)
    while offset < end:
        if offset + 6 > end:
            raise ValueError(f"a PDV item header at byte {offset} runs past the PDU's end ({end})")
        length, context_id = _PDV_HEADER.unpack_from(bytestream, offset)
        if length < 2 or offset + 4 + length > end:
            raise ValueError(f"a PDV item of {length} bytes at byte {offset} does not fit the PDU ({end})")
        item = PresentationDataValueItem()
        item.presentation_context_id = context_id
        item.presentation_data_value = view[offset + 5:offset + 4 + length]
        items.append(item)
        offset += 4 + length
    return items
