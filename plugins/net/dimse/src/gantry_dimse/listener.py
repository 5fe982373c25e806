"""An SCP listener: answers every DIMSE service the kernel has an active ``dimse-scp`` provider for.

    with Listener(kernel, "GANTRY", "0.0.0.0", 11112, allow=("MODALITY1",)) as listener:
        ...   # serving in background threads until stop()

With a non-empty ``allow`` list, associations from other calling AE titles are rejected
(A-ASSOCIATE-RJ, "calling AE title not recognised"). Port 0 picks a free port (see ``.port``).
At most ``settings.max_associations`` associations are served at once; pynetdicom rejects more
(transient, "local limit exceeded"). ``stop()`` closes what each role opened (``ScpRole.close``).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from pynetdicom import AE, evt

from gantry import TransportError

from gantry_dimse.services import ScpRole
from gantry_dimse.settings import DimseSettings
from gantry_dimse.sockets import association_socket, set_nodelay
from gantry_dimse.urls import validate_ae_title

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
                 settings: DimseSettings | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        try:
            self.ae_title = validate_ae_title(ae_title, "listener AE title")
            self.allow = tuple(validate_ae_title(title, "allowed calling AE title") for title in allow)
        except ValueError as err:
            raise TransportError(str(err)) from None
        self.host = host
        self._requested_port = port
        self.ssl_context = ssl_context
        """When set, every accepted connection is TLS (dicoms://) with this server context."""
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
        handlers: list[tuple[Any, Any]] = [(evt.EVT_CONN_OPEN, self._on_connection),
                                           (evt.EVT_ESTABLISHED, self._on_established),
                                           (evt.EVT_RELEASED, self._on_released)]
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
            self._server = ae.start_server((self.host, self._requested_port), block=False,
                                           evt_handlers=handlers, ssl_context=self.ssl_context)
        except OSError as err:
            raise TransportError(f"cannot listen on {self.host}:{self._requested_port}: "
                                 f"{err.strerror or err}") from err
        # Accepted sockets inherit TCP_NODELAY from the listening socket on Linux; each accepted
        # socket also gets it explicitly in _on_connection, for systems where they do not.
        set_nodelay(self._server.socket)
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
        set_nodelay(association_socket(event.assoc))
        with self._lock:
            # Keep the threads to wait for at stop(); forget those that have ended.
            self._associations = [assoc for assoc in self._associations
                                  if assoc.is_alive() or assoc.ident is None]  # None: not started yet
            self._associations.append(event.assoc)

    def _on_established(self, event: Any) -> None:
        with self._lock:
            self.accepted += 1

    def _on_released(self, event: Any) -> None:
        with self._lock:
            self.released += 1
