"""An SCP listener: answers every DIMSE service the kernel has an active ``dimse-scp`` provider for.

    with Listener(kernel, "GANTRY", "0.0.0.0", 11112, allow=("MODALITY1",)) as listener:
        ...   # serving in background threads until stop()

With a non-empty ``allow`` list, associations from other calling AE titles are rejected
(A-ASSOCIATE-RJ, "calling AE title not recognised"). Port 0 picks a free port (see ``.port``).
At most ``settings.max_associations`` associations are served at once; pynetdicom rejects more
(transient, "local limit exceeded"). ``stop()`` closes what each role opened (``ScpRole.close``).

A peer cannot hold a slot for ever: one that sends nothing is dropped after ``acse_timeout``
(ARTIM), one that stops in the middle of a PDU after ``network_timeout`` (the accepted socket's
timeout), and a PDU announcing more than ``max(our maximum PDU size, LARGEST_PDU)`` bytes drops
the connection before anything is read into memory.

Handlers hand slow follow-up work (kernel events such as ``gantry_instance_stored``) to the
listener's :class:`~gantry_dimse.notifications.Notifier` with ``emit_later``: it runs in one
background worker after the response went out; ``stop()`` drains it (see that module).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from pynetdicom import AE, evt

from gantry import TransportError
from gantry.log import get_logger

from gantry_dimse import pynetdicom_setup  # noqa: F401 -- pynetdicom as Gantry runs it
from gantry_dimse.notifications import AE_ATTRIBUTE, Notifier
from gantry_dimse.direct_store import take_stores_directly
from gantry_dimse.reads import decode_pdata_in_place, read_whole_pdus
from gantry_dimse.services import ScpRole
from gantry_dimse.settings import DimseSettings
from gantry_dimse.sockets import association_socket, limit_pdu_length, pdu_limit, set_nodelay
from gantry_dimse.urls import validate_ae_title
from gantry_dimse.workers import start_shared_server

log = get_logger(__name__)

#: Connections the OS keeps waiting to be accepted (socketserver's default is 5).
LISTEN_BACKLOG = 128

#: How long stop() waits for each association thread to end after aborting it.
STOP_WAIT_SECONDS = 5.0


def scp_roles(kernel: Any) -> list[ScpRole]:
    """The role of the active provider for each ``dimse-scp`` key (C-ECHO, C-STORE ...)."""
    if kernel is None:
        from gantry_dimse.echo import echo_scp

        return [echo_scp(None)]
    roles = []
    for (family, _service), offers in kernel.capabilities().items():
        if family == "dimse-scp" and offers:
            roles.append(kernel.load(offers[0].ref)(kernel))
    return roles


class Listener:
    def __init__(self, kernel: Any, ae_title: str, host: str = "0.0.0.0", port: int = 11112, *,
                 allow: Iterable[str] = (), roles: Sequence[ScpRole] | None = None,
                 settings: DimseSettings | None = None, ssl_context: ssl.SSLContext | None = None,
                 reuse_port: bool = False) -> None:
        try:
            self.ae_title = validate_ae_title(ae_title, "listener AE title")
            self.allow = tuple(validate_ae_title(title, "allowed calling AE title") for title in allow)
        except ValueError as err:
            raise TransportError(str(err)) from None
        self.host = host
        self._requested_port = port
        self.ssl_context = ssl_context
        """When set, every accepted connection is TLS (dicoms://) with this server context."""
        self.reuse_port = reuse_port
        """SO_REUSEPORT: several processes listen on one port and the OS shares the connections
        out among them (``gantry listen --processes``)."""
        if settings is None and kernel is not None and "dimse" in getattr(kernel, "records", {}):
            settings = DimseSettings.from_mapping(kernel.settings("dimse"))
        self.settings = settings or DimseSettings()
        self.roles = list(roles) if roles is not None else scp_roles(kernel)
        self.accepted = 0
        """Associations established so far."""
        self.released = 0
        """Associations the peer released so far."""
        self._lock = threading.Lock()
        self._associations: list[Any] = []
        self._ae: AE | None = None
        self._server: Any = None
        self.notifier: Notifier | None = None
        """Runs the events handlers queue with ``emit_later`` (set while the listener runs)."""

    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return int(self._server.server_address[1])

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(role.service for role in self.roles)

    def start(self) -> Listener:
        ae = AE(ae_title=self.ae_title)
        timeouts = self.settings.timeouts
        ae.acse_timeout, ae.dimse_timeout, ae.network_timeout = timeouts.acse, timeouts.dimse, timeouts.network
        ae.require_calling_aet = list(self.allow)
        ae.maximum_associations = self.settings.max_associations
        ae.maximum_pdu_size = self.settings.max_pdu_size
        handlers: list[tuple[Any, Any]] = [(evt.EVT_CONN_OPEN, self._on_connection),
                                           (evt.EVT_ESTABLISHED, self._on_established),
                                           (evt.EVT_RELEASED, self._on_released),
                                           (evt.EVT_CONN_CLOSE, self._on_connection_closed)]
        for role in self.roles:
            for uid in role.abstract_syntaxes:
                ae.add_supported_context(uid, list(role.transfer_syntaxes) or None)
            handlers.extend(role.handlers)
        # After every context is added: re-adding a context without roles resets them to None.
        # A context another role already supports keeps its transfer syntaxes (and their order,
        # which decides what is accepted); only the roles are set on it.
        supported = {str(context.abstract_syntax) for context in ae.supported_contexts}
        for role in self.roles:
            for uid in role.role_selection:
                syntaxes = [] if uid in supported else list(role.transfer_syntaxes) or None
                ae.add_supported_context(uid, syntaxes, scu_role=True, scp_role=True)
        try:
            # No ssl_context for pynetdicom: it would do the TLS handshake in its accept loop,
            # where one client that connects and says nothing stops the listener accepting anyone.
            # _on_connection does it in the connection's own thread instead, with a timeout.
            self._server = (start_shared_server(ae, (self.host, self._requested_port), handlers)
                            if self.reuse_port else
                            ae.start_server((self.host, self._requested_port), block=False,
                                            evt_handlers=handlers))
        except OSError as err:
            raise TransportError(f"cannot listen on {self.host}:{self._requested_port}: "
                                 f"{err.strerror or err}") from err
        # Accepted sockets inherit TCP_NODELAY from the listening socket on Linux; each accepted
        # socket also gets it explicitly in _on_connection, for systems where they do not.
        set_nodelay(self._server.socket)
        # socketserver listens with a backlog of 5. When a burst of connections (modalities
        # sending at once, bad peers) meets a busy accept thread, Linux drops the handshakes that
        # do not fit: they complete only on retransmits, a second or more later, and one whose
        # peer sends nothing first may stay half-open on our side while its peer thinks it is in.
        self._server.socket.listen(LISTEN_BACKLOG)
        self.notifier = Notifier(self.settings.notify_queue, name=f"gantry-dimse-notifier-{self.port}")
        setattr(ae, AE_ATTRIBUTE, self.notifier)
        self._ae = ae
        return self

    def stop(self) -> None:
        """Stop listening, abort open associations, wait for their threads to end, and close
        what the roles opened (also when the listener never started)."""
        if self._ae is not None:
            self._ae.shutdown()
            self._ae, self._server = None, None
            with self._lock:
                associations, self._associations = self._associations, []
            for assoc in associations:
                assoc.join(STOP_WAIT_SECONDS)
        if self.notifier is not None:  # after the associations: nothing is queued any more
            self.notifier.close(self.settings.notify_drain)
        for role in self.roles:  # after the threads: no handler is still using what it closes
            if role.close is not None:
                role.close()

    def open_associations(self) -> list[Any]:
        """The associations currently established with this listener."""
        with self._lock:
            return [assoc for assoc in self._associations if assoc.is_established]

    def __enter__(self) -> Listener:
        return self.start() if self._ae is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_connection(self, event: Any) -> None:
        sock = association_socket(event.assoc)
        set_nodelay(sock)
        if sock is not None and self.ssl_context is not None:
            sock = self._handshake(event.assoc, sock)
        if sock is not None:
            # Accepted sockets block without end: a peer that stops in the middle of a PDU would
            # hold its thread and its association slot for ever (pynetdicom's ARTIM and idle
            # timers are only checked between PDUs).
            sock.settimeout(self.settings.timeouts.network)
        read_whole_pdus(getattr(event.assoc.dul, "socket", None))
        decode_pdata_in_place(event.assoc.dul)
        for role in self.roles:
            if role.direct_store is not None:
                take_stores_directly(event.assoc, role.direct_store)
        limit_pdu_length(getattr(event.assoc.dul, "socket", None), pdu_limit(event.assoc.ae.maximum_pdu_size))
        with self._lock:
            # Keep the threads to wait for at stop(); forget those that have ended.
            self._associations = [assoc for assoc in self._associations
                                  if assoc.is_alive() or assoc.ident is None]  # None: not started yet
            self._associations.append(event.assoc)

    def _handshake(self, assoc: Any, sock: Any) -> Any:
        """The server side of the TLS handshake, in the connection's thread, within acse_timeout;
        the TLS socket, or None (connection closed, association ended) when it fails."""
        assert self.ssl_context is not None
        try:
            sock.settimeout(self.settings.timeouts.acse)
            secure = self.ssl_context.wrap_socket(sock, server_side=True)
        except (OSError, ValueError) as err:
            log.warning("dimse.tls_refused", peer=_peer(assoc), error=f"{type(err).__name__}: {err}")
            try:
                sock.close()
            except OSError:
                pass
            assoc.dul.socket.socket = None
            assoc.dul.socket._is_connected = False
            assoc.dul.event_queue.put("Evt17")  # transport closed: the DUL goes back to idle
            assoc.dul.to_user_queue.put(None)  # and the association thread stops waiting for an RQ
            return None
        assoc.dul.socket.socket = secure
        return secure

    @staticmethod
    def _on_connection_closed(event: Any) -> None:
        assoc = event.assoc
        if assoc.requestor.primitive is None:
            # Closed before an A-ASSOCIATE-RQ came (garbage, an abort, a bad PDU): pynetdicom's
            # association thread would still wait acse_timeout for one, holding its slot.
            # What it gets when that wait times out ends it now.
            assoc.dul.to_user_queue.put(None)

    def _on_established(self, event: Any) -> None:
        with self._lock:
            self.accepted += 1

    def _on_released(self, event: Any) -> None:
        with self._lock:
            self.released += 1


def _peer(assoc: Any) -> str:
    try:
        return f"{assoc.requestor.address}:{assoc.requestor.port}"
    except Exception:
        return "?"
