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
