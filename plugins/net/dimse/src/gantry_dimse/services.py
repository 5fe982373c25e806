"""How DIMSE service plugins plug into the ``dicom://`` transport and the listener.

A service plugin (C-ECHO here; C-FIND, C-STORE, C-MOVE, C-GET ... in their own plugins) returns a
:class:`gantry.DimseService` whose references follow these contracts:

``scu(channel: DimseChannel, *args, **kwargs) -> result``
    The requesting side. ``channel`` is the :class:`~gantry_dimse.transport.DimseTransport`; the
    provider runs its messages with ``channel.run(abstract_syntaxes, operation)``, where
    ``operation(association)`` gets a pooled, established pynetdicom association (opened with
    retries and the node's circuit breaker). It raises :class:`AssociationLost` when the
    association went away under it: ``run`` then retries once on a fresh association if the one
    it lent was reused. The adapter's ``echo()``, ``find()`` and ``store()`` call the active
    C-ECHO, C-FIND and C-STORE SCUs; ``retrieve()`` calls the C-GET SCU, or the C-MOVE SCU when given a ``destination``.

``scp(kernel) -> ScpRole``
    The answering side. :class:`~gantry_dimse.listener.Listener` asks the kernel for the active
    provider of every ``dimse-scp`` key, and registers each role's presentation contexts and
    pynetdicom event handlers on its AE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from gantry import TransportError

T = TypeVar("T")


class AssociationLost(TransportError):
    """The association ended while an operation was using it (no response, aborted)."""


class DimseChannel(Protocol):
    """What an SCU provider gets: a way to run an operation on a suitable association."""

    url: str

    kernel: Any
    """The kernel that opened the adapter, or None."""

    def run(self, abstract_syntaxes: Sequence[str], operation: Callable[[Any], T], *,
            transfer_syntaxes: Sequence[str] = (),
            contexts: Sequence[tuple[str, Sequence[str]]] = (),
            scp_roles: Sequence[str] = ()) -> T: ...


@attrs.frozen(kw_only=True)
class ScpRole:
    """What an SCP provider adds to a listener."""

    service: str
    abstract_syntaxes: tuple[str, ...]
    handlers: tuple[tuple[Any, Callable[..., Any]], ...]
    """``(pynetdicom event, handler)`` pairs, e.g. ``(evt.EVT_C_ECHO, answer_echo)``."""
    transfer_syntaxes: tuple[str, ...] = ()
    """Accepted for every abstract syntax; empty means pynetdicom's defaults."""
    role_selection: tuple[str, ...] = ()
    """Abstract syntaxes for which the listener accepts the requestor's proposed SCU/SCP roles
    (a C-GET SCP must be the SCU of the storage classes to send its C-STORE sub-operations)."""
    close: Callable[[], None] | None = None
    """Called when the listener stops: releases what the role opened (a database, a store)."""
    direct_store: Callable[[Any], Any] | None = None
    """A C-STORE SCP's handler for :mod:`gantry_dimse.direct_store`'s shorter path: it gets a
    ``StoreRequest`` and returns a status as an ``EVT_C_STORE`` handler does. The role's
    ``EVT_C_STORE`` handler still answers the requests that path leaves to pynetdicom."""


#: Error Comment (0000,0902) is LO: at most 64 characters.
COMMENT_LENGTH = 64


def failure_status(code: int, comment: str) -> Any:
    """A status dataset for an SCP handler to return: ``code`` and why, in Error Comment."""
    from pydicom.dataset import Dataset

    status = Dataset()
    status.Status = code
    status.ErrorComment = comment[:COMMENT_LENGTH]
    return status
