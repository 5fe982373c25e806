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
    C-ECHO, C-FIND and C-STORE SCUs; ``retrieve()`` will call C-MOVE/C-GET the same way once those
    plugins exist (and the descriptor's ``operations`` grows with them).

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
            contexts: Sequence[tuple[str, Sequence[str]]] = ()) -> T: ...


@attrs.frozen(kw_only=True)
class ScpRole:
    """What an SCP provider adds to a listener."""

    service: str
    abstract_syntaxes: tuple[str, ...]
    handlers: tuple[tuple[Any, Callable[..., Any]], ...]
    """``(pynetdicom event, handler)`` pairs, e.g. ``(evt.EVT_C_ECHO, answer_echo)``."""
    transfer_syntaxes: tuple[str, ...] = ()
    """Accepted for every abstract syntax; empty means pynetdicom's defaults."""
    close: Callable[[], None] | None = None
    """Called when the listener stops: releases what the role opened (a database, a store)."""
