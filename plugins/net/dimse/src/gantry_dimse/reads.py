"""Reading PDUs in as few system calls as the data allow.

pynetdicom's ``AssociationSocket.recv(n)`` reads a PDU's body 4 KiB at a time into a growing
``bytearray``: a 50 MB instance costs 12,800 ``recv`` calls, and that loop, not the network,
bounded how fast a large instance arrived. :func:`read_whole_pdus` gives an association's
socket wrapper a ``recv`` with the same contract (exactly ``n`` bytes, fewer only when the peer
closed the connection; timeouts and errors raised as before) that reads straight into a buffer
of the PDU's size, as much as the kernel has each time.
"""

from __future__ import annotations

from typing import Any


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
