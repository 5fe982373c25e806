"""read_exactly: pynetdicom's recv contract (exactly n bytes, fewer only at a closed connection)."""

from __future__ import annotations

import socket
import threading

import pytest

from gantry_dimse.reads import read_exactly


def test_a_pdu_sent_in_pieces_is_read_whole_and_nothing_more() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        payload = bytes(range(256)) * 4000  # 1 MB, more than one kernel buffer
        sender = threading.Thread(target=lambda: [theirs.sendall(payload[i:i + 70_000])
                                                  for i in range(0, len(payload), 70_000)] + [theirs.sendall(b"NEXT")])
        sender.start()
        first = read_exactly(ours, len(payload))
        second = read_exactly(ours, 4)
        sender.join()
    assert isinstance(first, bytearray) and first == payload
    assert second == b"NEXT"


def test_a_closed_connection_gives_what_arrived() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        theirs.sendall(b"partial")
        theirs.close()
        assert read_exactly(ours, 100) == bytearray(b"partial")
        assert read_exactly(ours, 6) == bytearray()


def test_a_peer_that_stops_sending_raises_the_socket_timeout() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.settimeout(0.2)
        theirs.sendall(b"abc")
        with pytest.raises(TimeoutError):
            read_exactly(ours, 10)


def test_a_pdata_pdu_decodes_in_place_as_pynetdicom_decodes_it() -> None:
    from pynetdicom.pdu import P_DATA_TF

    from gantry_dimse.reads import decode_pdata_in_place, pdv_items

    pdu = P_DATA_TF()
    pdu.presentation_data_value_items = []
    for context_id, data in ((1, b"\x03" + b"command" * 10), (1, b"\x00" + bytes(range(256)) * 100), (3, b"\x02")):
        item = pdv_items(bytearray(b"\x04\x00" + (len(data) + 6).to_bytes(4, "big") + (len(data) + 1).to_bytes(4, "big")
                                   + bytes([context_id]) + data))[0]
        pdu.presentation_data_value_items.append(item)
    encoded = bytearray(pdu.encode())

    class Dul:  # the method decode_pdata_in_place wraps, as pynetdicom's DUL has it
        @staticmethod
        def _decode_pdu(bytestream: bytearray) -> tuple[object, str]:
            theirs = P_DATA_TF()
            theirs.decode(bytes(bytestream))
            return theirs, "Evt10"

    dul = Dul()
    expected, _ = dul._decode_pdu(encoded)
    decode_pdata_in_place(dul)
    ours, event = dul._decode_pdu(encoded)
    assert event == "Evt10"
    assert [(c, bytes(d)) for c, d in ours.to_primitive().presentation_data_value_list] == \
        [(c, bytes(d)) for c, d in expected.to_primitive().presentation_data_value_list]
    assert all(isinstance(d, memoryview) for _, d in ours.to_primitive().presentation_data_value_list)


@pytest.mark.parametrize("damage", ["item past the end", "item too short", "half a header"])
def test_a_damaged_pdata_pdu_is_refused(damage: str) -> None:
    from gantry_dimse.reads import pdv_items

    item = {"item past the end": (100).to_bytes(4, "big") + b"\x01\x03abc",
            "item too short": (1).to_bytes(4, "big") + b"\x01",
            "half a header": b"\x00\x00"}[damage]
    with pytest.raises(ValueError, match="PDV item"):
        pdv_items(bytearray(b"\x04\x00" + len(item).to_bytes(4, "big") + item))
