"""TCP socket options for every socket Gantry owns.

Without TCP_NODELAY, each small PDU waits for the peer's delayed ACK (40-200 ms): with dcmtk peers
that turned 985 small C-STOREs a second into 11 (see the project's peers notes). pynetdicom does
not set it, so Gantry does, on the sockets it connects and on the ones its listener accepts.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from typing import Any


#: The attribute of a client SSLContext saying whether it presents a certificate (gantry-tls sets it).
CLIENT_CERTIFICATE = "gantry_client_certificate"
#: How long a TLS 1.3 client without a certificate waits after the handshake for the server's
#: verdict (its session tickets, or a "certificate required" alert).
CERTIFICATE_VERDICT_WAIT = 1.0


def set_nodelay(sock: socket.socket | None) -> None:
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: The longest PDU a listener reads when the peer ignores the maximum length we announced
#: (A-ASSOCIATE-RQs are not limited by it): anything longer drops the connection unread.
LARGEST_PDU = 4 * 1024 * 1024


def pdu_limit(maximum_pdu_size: int | None) -> int | None:
    """The longest PDU to read when we announced ``maximum_pdu_size`` (0 or None: unlimited)."""
    return max(int(maximum_pdu_size), LARGEST_PDU) if maximum_pdu_size else None


def limit_pdu_length(wrapper: Any, limit: int | None) -> None:
    """Make a pynetdicom ``AssociationSocket`` refuse to read a PDU longer than ``limit`` bytes
    (None: no limit). Apply it after anything else that replaces ``wrapper.recv``.

    pynetdicom reads a PDU's 6-byte header, then ``recv(length)``: a peer announcing 4 GB would
    have it allocate as much as the peer cares to send (or, reading whole PDUs into a buffer of
    their size, all at once). The refusal is an OSError, which pynetdicom handles as the
    connection closing (the association is aborted, its thread ends).
    """
    if wrapper is None or limit is None:
        return
    read = wrapper.recv

    def recv(nr_bytes: int) -> Any:
        if nr_bytes > limit:
            try:  # pynetdicom expects a closed connection after this error: close it for real
                wrapper.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise OSError(f"the peer announced a PDU of {nr_bytes} bytes, more than the {limit} accepted")
        return read(nr_bytes)

    wrapper.recv = recv


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
    check is worth telling apart from an unreachable node (it is not retried).

    With TLS 1.3 the client's handshake ends before the server has checked the client's
    certificate: a server that requires one refuses with an alert the client only reads after
    (``TLSV13_ALERT_CERTIFICATE_REQUIRED``). pynetdicom logs that read error and reports a closed
    connection, so the first TLS error of a read or write after the handshake is kept too
    (``tls_error``)."""

    connect_error: OSError | None = None
    tls_error: ssl.SSLError | None = None

    def connect(self, address: Any) -> None:
        try:
            super().connect(address)
            if self.version() == "TLSv1.3" and getattr(self.context, CLIENT_CERTIFICATE, True) is False:
                self._await_verdict(CERTIFICATE_VERDICT_WAIT)
        except OSError as err:
            self.connect_error = err
            raise

    def _await_verdict(self, wait: float) -> None:
        """Without a client certificate, wait (briefly) for the server's first post-handshake
        message: session tickets mean it accepted us, an alert that it refused us. A refusal is
        raised here, from connect(), so it is never mistaken for the connection just closing
        (which a refused request racing the alert otherwise looks like). Nothing within ``wait``
        (a server that sends no tickets) or any other outcome: carry on as usual."""
        timeout = self.gettimeout()
        deadline = time.monotonic() + wait
        try:
            self.setblocking(False)
            while (left := deadline - time.monotonic()) > 0:
                readable, _, _ = select.select([self], [], [], left)
                if not readable:
                    return
                try:
                    # Processes the TLS records. An acceptor sends no DICOM data before our
                    # A-ASSOCIATE-RQ, but should one come, it is kept for the first recv.
                    self._early = super().recv(4096)
                except ssl.SSLWantReadError:
                    return  # a record (a session ticket) was handled: the server accepted us
                except ssl.SSLError as err:
                    if needs_client_certificate(err):
                        raise
                    return
                except OSError:
                    return  # closed or reset: pynetdicom's reads tell the story as usual
                return
        finally:
            self.settimeout(timeout)

    _early = b""

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        if self._early:
            data, self._early = self._early[:buflen], self._early[buflen:]
            return data
        try:
            return super().recv(buflen, flags)
        except ssl.SSLError as err:
            self._keep(err)
            raise

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        if self._early:
            view = memoryview(buffer).cast("B")
            count = min(len(self._early), nbytes or len(view), len(view))
            view[:count] = self._early[:count]
            self._early = self._early[count:]
            return count
        try:
            return super().recv_into(buffer, nbytes or 0, flags)
        except ssl.SSLError as err:
            self._keep(err)
            raise

    def pending(self) -> int:
        return len(self._early) + super().pending()

    def send(self, data: Any, flags: int = 0) -> int:
        try:
            return super().send(data, flags)
        except ssl.SSLError as err:
            self._keep(err)
            raise

    def sendall(self, data: Any, flags: int = 0) -> None:
        try:
            super().sendall(data, flags)
        except ssl.SSLError as err:
            self._keep(err)
            raise

    def _keep(self, err: ssl.SSLError) -> None:
        if self.tls_error is None:
            self.tls_error = err


def needs_client_certificate(err: BaseException | None) -> bool:
    """Whether a TLS error is the server refusing a client that presented no certificate
    (TLS 1.3's ``certificate required`` alert)."""
    return isinstance(err, ssl.SSLError) and "CERTIFICATE_REQUIRED" in str(getattr(err, "reason", "") or err).upper()
