"""TCP socket options for every socket Gantry owns.

Without TCP_NODELAY, each small PDU waits for the peer's delayed ACK (40-200 ms): with dcmtk peers
that turned 985 small C-STOREs a second into 11 (see the project's peers notes). pynetdicom does
not set it, so Gantry does, on the sockets it connects and on the ones its listener accepts.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any


def set_nodelay(sock: socket.socket | None) -> None:
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def has_nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def association_socket(assoc: Any) -> socket.socket | None:
    """The TCP socket under a pynetdicom association (None once it is closed)."""
    wrapper = getattr(assoc.dul, "socket", None)
    return getattr(wrapper, "socket", None)


class ConnectingSocket(socket.socket):
    """A client socket that remembers why ``connect`` failed: pynetdicom only logs it, and the
    caller deserves the real error (refused, timed out, no route) chained to its TransportError."""

    connect_error: OSError | None = None

    def connect(self, address: Any) -> None:
        try:
            super().connect(address)
        except OSError as err:
            self.connect_error = err
            raise

    @classmethod
    def adopt(cls, sock: socket.socket) -> ConnectingSocket:
        """Take over ``sock``'s file descriptor (bound, not yet connected) with its timeout."""
        timeout = sock.gettimeout()
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.settimeout(timeout)
        return adopted


class ConnectingSSLSocket(ssl.SSLSocket):
    """ConnectingSocket's TLS twin: ``connect`` also does the handshake, and a failed certificate
    check is worth telling apart from an unreachable node (it is not retried)."""

    connect_error: OSError | None = None

    def connect(self, address: Any) -> None:
        try:
            super().connect(address)
        except OSError as err:
            self.connect_error = err
            raise
