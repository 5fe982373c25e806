"""Opening associations (with the real reason when that fails) and a pool that reuses them.

An association costs a TCP handshake and an A-ASSOCIATE round trip; a PACS may also limit how many
it accepts. So an adapter keeps the associations it opened, keyed by who talks to whom with which
presentation contexts, and reuses an idle one for the next operation. Idle associations are
released after ``idle_timeout`` by a reaper thread that exists only while something is idle.
Associations the peer dropped are noticed when taken and replaced.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
from pynetdicom import AE
from pynetdicom.pdu_primitives import A_ASSOCIATE
from pynetdicom.presentation import build_context, build_role

from gantry import TransportError

from gantry_dimse import pynetdicom_setup  # noqa: F401 -- pynetdicom as Gantry runs it
from gantry_dimse.races import ignore_abort_after_close, requeue_stolen_responses
from gantry_dimse.reads import decode_pdata_in_place, read_whole_pdus
from gantry_dimse.retry import ConnectFailure
from gantry_dimse.settings import Timeouts
from gantry_dimse.sockets import (CLIENT_CERTIFICATE, ConnectingSocket, ConnectingSSLSocket, limit_pdu_length,
                                  needs_client_certificate, pdu_limit, set_nodelay)

#: Association result codes in A-ASSOCIATE-RJ (PS3.8 9.3.4).
REJECTED_PERMANENT, REJECTED_TRANSIENT = 1, 2  # A-ASSOCIATE-RJ Result
_CONNECTING_SOCKET = "_gantry_connecting_socket"


class AssociationRejected(TransportError):
    """The peer answered and refused the association (permanently): retrying will not help."""


class TLSFailure(AssociationRejected):
    """The TLS handshake failed (certificate not trusted, no client certificate, no common
    protocol version): permanent, like a rejection."""


@attrs.frozen(kw_only=True)
class AssociationKey:
    """What makes two associations interchangeable."""

    host: str
    port: int
    called_ae: str
    calling_ae: str
    abstract_syntaxes: tuple[str, ...]
    transfer_syntaxes: tuple[str, ...] = ()
    """Offered for every abstract syntax; empty means pynetdicom's defaults."""
    contexts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Further contexts, each ``(abstract syntax, its own transfer syntaxes)``: how a C-STORE
    batch proposes one context per (SOP class, transfer syntax) it needs."""
    scp_roles: tuple[str, ...] = ()
    """Abstract syntaxes for which we propose to be the SCP too (SCP/SCU role selection): how a
    C-GET SCU receives the C-STORE sub-operations on its own association."""

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class ClientAE(AE):
    """pynetdicom's AE, with TCP_NODELAY set and connect errors kept on every socket it opens.

    ``AE._create_socket`` is pynetdicom's (private, stable since 2.0) seam for making the
    requestor's socket; the socket is bound but not connected yet, so the first PDU already
    goes out without Nagle's delay. With ``tls_args`` the socket is wrapped here, after
    TCP_NODELAY, rather than by pynetdicom at connect time, so that a failed handshake is kept
    too and told apart from an unreachable node.
    """

    ssl_context: ssl.SSLContext | None = None
    """Set by make_client_ae: every association this AE opens runs over TLS."""

    def _create_socket(self, assoc: Any, address: Any, tls_args: tuple[ssl.SSLContext, str] | None = None) -> Any:
        wrapper = super()._create_socket(assoc, address, None)
        requeue_stolen_responses(assoc)
        ignore_abort_after_close(assoc)
        read_whole_pdus(wrapper)
        decode_pdata_in_place(assoc.dul)
        limit_pdu_length(wrapper, pdu_limit(self.maximum_pdu_size))  # a 4 GB header is not allocated
        if wrapper.socket is not None:
            wrapper.socket = ConnectingSocket.adopt(wrapper.socket)
            set_nodelay(wrapper.socket)
            if tls_args is not None:
                context, server_hostname = tls_args
                # An unconnected SSL socket does its handshake inside connect().
                wrapper.socket = context.wrap_socket(wrapper.socket, server_hostname=server_hostname)
            setattr(assoc, _CONNECTING_SOCKET, wrapper.socket)
        return wrapper


def make_client_ae(calling_ae: str, timeouts: Timeouts, ssl_context: ssl.SSLContext | None = None) -> ClientAE:
    ae = ClientAE(ae_title=calling_ae)
    if ssl_context is not None:
        # The documented way to have wrap_socket return our subclass (keeps handshake errors).
        ssl_context.sslsocket_class = ConnectingSSLSocket
        ae.ssl_context = ssl_context
    ae.connection_timeout = timeouts.connect
    ae.acse_timeout = timeouts.acse
    ae.dimse_timeout = timeouts.dimse
    ae.network_timeout = timeouts.network
    return ae


def open_association(ae: ClientAE, key: AssociationKey) -> Any:
    """An established association, or ConnectFailure (worth retrying) / AssociationRejected."""
    transfer = list(key.transfer_syntaxes) or None
    contexts = [build_context(uid, transfer) for uid in key.abstract_syntaxes]
    contexts += [build_context(uid, list(syntaxes)) for uid, syntaxes in key.contexts]
    roles = [build_role(uid, scu_role=True, scp_role=True) for uid in key.scp_roles]
    tls_args = (ae.ssl_context, key.host) if ae.ssl_context is not None else None
    assoc = ae.associate(key.host, key.port, contexts=contexts, ae_title=key.called_ae,
                         ext_neg=roles or None, tls_args=tls_args)
    if assoc.is_established:
        return assoc
    answer = assoc.acceptor.primitive or _unread_answer(assoc)
    if answer is not None and answer.result in (REJECTED_PERMANENT, REJECTED_TRANSIENT):
        reason = (f"A-ASSOCIATE-RJ from {key.endpoint}: {answer.result_str}, {answer.source_str}: "
                  f"{answer.reason_str} (called {key.called_ae}, calling {key.calling_ae})")
        if answer.result == REJECTED_TRANSIENT:
            raise ConnectFailure(reason)
        raise AssociationRejected(reason)
    if answer is not None and answer.result == 0:
        raise AssociationRejected(
            f"{key.endpoint} accepted the association but none of the presentation contexts "
            f"({', '.join(key.abstract_syntaxes + tuple(uid for uid, _ in key.contexts))})")
    sock = getattr(assoc, _CONNECTING_SOCKET, None)
    error = getattr(sock, "connect_error", None)
    tls_error = getattr(sock, "tls_error", None)
    for refusal in (error, tls_error):
        if needs_client_certificate(refusal):
            # TLS 1.3 refuses after our side of the handshake (an alert); retrying without a
            # certificate would be refused again.
            raise TLSFailure(f"{key.endpoint} requires a client certificate and refused the connection "
                             f"without one: configure [tls] cert_file and key_file (a certificate its "
                             f"CA trusts)") from refusal
    if isinstance(error, ssl.SSLError):
        # A certificate the peer or we refuse will be refused again: not worth a retry.
        hint = ""
        if "HANDSHAKE_FAILURE" in str(error.reason or "").upper() and not getattr(
                ae.ssl_context, CLIENT_CERTIFICATE, True):
            # TLS 1.2 says no more than "handshake failure" when a certificate was required.
            hint = " (if the server requires a client certificate, configure [tls] cert_file and key_file)"
        raise TLSFailure(f"TLS handshake with {key.endpoint} failed: {error}{hint}") from error
    if isinstance(error, TimeoutError):
        raise ConnectFailure(f"TCP connection to {key.endpoint} timed out after {ae.connection_timeout} s", error)
    if error is not None:
        raise ConnectFailure(f"TCP connection to {key.endpoint} failed: {error.strerror or error}", error)
    if assoc.is_aborted:
        raise ConnectFailure(f"{key.endpoint} aborted the association request (A-ABORT or connection closed)")
    raise ConnectFailure(f"no answer to the association request from {key.endpoint} within {ae.acse_timeout} s")


def _unread_answer(assoc: Any) -> Any:
    """The peer's A-ASSOCIATE answer, when pynetdicom gave up before reading it.

    A race in pynetdicom (3.0): once its connection is up, the requestor's thread checks that
    the socket is still connected before it reads the answer. A peer that rejects at once and
    closes the connection (dcmqrscp) can have the DUL thread receive the A-ASSOCIATE-RJ and close
    the socket first: pynetdicom then aborts, and the rejection sits unread in the DUL's queue.
    """
    for primitive in list(assoc.dul.to_user_queue.queue):
        if isinstance(primitive, A_ASSOCIATE):
            return primitive
    return None


@attrs.define
class Lease:
    """One association lent to one operation. Mark it ``broken`` to have it closed, not kept."""

    association: Any
    key: AssociationKey
    reused: bool
    broken: bool = False


class AssociationPool:
    def __init__(self, opener: Callable[[AssociationKey], Any], *, idle_timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._opener = opener
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._cond = threading.Condition()
        self._idle: dict[AssociationKey, list[tuple[Any, float]]] = {}
        self._reaper: threading.Thread | None = None
        self._closed = False
        self.opened = 0
        """How many associations this pool has opened (for reports and tests)."""

    @contextmanager
    def lease(self, key: AssociationKey, *, fresh: bool = False) -> Iterator[Lease]:
        """Lend an association for ``key``: an idle live one unless ``fresh``, else a new one."""
        if self._closed:
            raise TransportError(f"the association pool for {key.endpoint} is closed")
        association = None if fresh else self._take_idle(key)
        lease = Lease(association=association, key=key, reused=association is not None)
        if association is None:
            # Many nodes serve one association at a time: one of ours idling with other contexts
            # would hold the node while we wait for it to accept the new one.
            self._release_idle(other_than=key)
            lease.association = self._opener(key)
            with self._cond:
                self.opened += 1
        try:
            yield lease
        except BaseException:
            lease.broken = True  # its state is unknown: never hand it to someone else
            raise
        finally:
            self._give_back(lease)

    def idle_count(self) -> int:
        with self._cond:
            return sum(len(entries) for entries in self._idle.values())

    def close(self) -> None:
        """Release every idle association and stop the reaper."""
        with self._cond:
            self._closed = True
            idle = [assoc for entries in self._idle.values() for assoc, _ in entries]
            self._idle.clear()
            reaper, self._reaper = self._reaper, None
            self._cond.notify_all()
        if reaper is not None and reaper is not threading.current_thread():
            reaper.join()
        for assoc in idle:
            _finish(assoc)

    def _release_idle(self, *, other_than: AssociationKey) -> None:
        with self._cond:
            idle = [assoc for key, entries in self._idle.items() if key != other_than for assoc, _ in entries]
            for key in [key for key in self._idle if key != other_than]:
                del self._idle[key]
        for assoc in idle:  # outside the lock: a release waits for the peer's answer
            _finish(assoc)

    def _take_idle(self, key: AssociationKey) -> Any:
        dead: list[Any] = []
        found = None
        with self._cond:
            entries = self._idle.get(key, [])
            now = self._clock()
            while entries and found is None:
                assoc, since = entries.pop()  # the most recently used is the likeliest alive
                if assoc.is_established and now - since < self.idle_timeout:
                    found = assoc
                else:
                    dead.append(assoc)
        for assoc in dead:
            _finish(assoc)
        return found

    def _give_back(self, lease: Lease) -> None:
        assoc = lease.association
        with self._cond:
            keep = (not lease.broken and not self._closed and self.idle_timeout > 0
                    and assoc.is_established)
            if keep:
                self._idle.setdefault(lease.key, []).append((assoc, self._clock()))
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._reap, name="gantry-dimse-pool-reaper",
                                                    daemon=True)
                    self._reaper.start()
                self._cond.notify_all()
        if not keep:
            _finish(assoc)

    def _reap(self) -> None:
        while True:
            with self._cond:
                if self._closed or not any(self._idle.values()):
                    if self._reaper is threading.current_thread():
                        self._reaper = None
                    return
                now = self._clock()
                expired = []
                for entries in self._idle.values():
                    expired += [assoc for assoc, since in entries if now - since >= self.idle_timeout]
                    entries[:] = [(assoc, since) for assoc, since in entries if now - since < self.idle_timeout]
                if not expired:
                    oldest = min(since for entries in self._idle.values() for _, since in entries)
                    self._cond.wait(timeout=max(oldest + self.idle_timeout - now, 0.01))
                    continue
            for assoc in expired:  # outside the lock: a release waits for the peer's answer
                _finish(assoc)


def _finish(assoc: Any) -> None:
    """Close an association politely if it is still up (A-RELEASE), or just let it go."""
    if assoc.is_established:
        assoc.release()
