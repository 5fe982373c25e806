"""The C-STORE sub-associations of one C-MOVE: as many as its instances' presentation contexts
need (one association carries at most 128, PS3.8 9.3.2.2), opened one after the other.

pynetdicom drives the sub-operations: it opens one association from the destination the handler
yields, sends each instance the handler yields with that association's ``send_c_store``, counts
the outcomes and answers the requestor. :func:`plan` puts the instances in groups whose (SOP
class, transfer syntax) contexts fit one association each (gantry-cstore's batch planning, over
instances sorted by class and syntax); pynetdicom's association carries the first group.
:class:`SubAssociations` takes over ``send_c_store`` and ``release`` of *that association object
only*: when the handler reaches the first instance of the next group, the association in use is
released and the group's own is opened (same AE, TLS and TCP_NODELAY), and C-STOREs go there.
pynetdicom's counts and responses stay right because every C-STORE still goes through it. An
instance whose group's association cannot be opened fails its sub-operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydicom import Dataset
from pynetdicom import evt
from pynetdicom.presentation import build_context

from gantry import TransportError
from gantry.log import get_logger

from gantry_cget.sending import accepted_storage
from gantry_cstore.batches import MAX_CONTEXTS, Outgoing, batched
from gantry_cstore.scu import identify
from gantry_cstore.selection import indexed_entry
from gantry_dimse.races import requeue_stolen_responses
from gantry_dimse.sockets import association_socket, set_nodelay

log = get_logger(__name__)

VERIFICATION = "1.2.840.10008.1.1"


def plan(kernel: Any, rows: Sequence[dict[str, Any]],
         max_contexts: int = MAX_CONTEXTS) -> tuple[list[list[Any]], list[tuple[int, dict[str, Any]]]]:
    """``(contexts of each group, [(group, row), ...] in sending order)``. A row's class and syntax
    come from the index (its header when the index lacks them); rows that cannot be sent (a
    missing file) go first, in group 0, and fail when sent."""
    entries = []
    for row in rows:
        entry = indexed_entry(row)
        entries.append((identify(kernel, entry) if isinstance(entry, str) else entry, row))
    entries.sort(key=lambda pair: (pair[0].sop_class_uid, pair[0].transfer_syntax_uid)
                 if isinstance(pair[0], Outgoing) else ("", ""))
    groups: list[list[Any]] = []
    order: list[tuple[int, dict[str, Any]]] = []
    for number, batch in enumerate(batched((entry for entry, _row in entries), max_contexts)):
        groups.append([build_context(uid, list(syntaxes)) for uid, syntaxes in batch.contexts()]
                      or [build_context(VERIFICATION)])
        order += [(number, row) for _entry, row in entries[len(order):len(order) + len(batch.entries)]]
    return groups or [[build_context(VERIFICATION)]], order


class SubAssociations:
    """The associations to one move destination, group after group (see the module docstring)."""

    def __init__(self, ae: Any, host: str, port: int, ae_title: str, groups: list[list[Any]],
                 tls_args: tuple[Any, str] | None = None) -> None:
        self.ae, self.host, self.port, self.ae_title = ae, host, port, ae_title
        self.groups = groups
        self.tls_args = tls_args
        self.group = 0
        self.current: Any = None
        self.opened = 0
        """Associations opened so far (pynetdicom's first one included)."""

    def destination(self) -> tuple[str, int, dict[str, Any]]:
        """What the C-MOVE handler yields: pynetdicom opens the first group's association."""
        return self.host, self.port, {"contexts": self.groups[0], "tls_args": self.tls_args,
                                      "evt_handlers": [(evt.EVT_CONN_OPEN, self._adopt)]}

    def enter(self, group: int) -> None:
        """Called before each instance: switch to ``group``'s association if not there yet."""
        if group == self.group:
            return
        self._release_current()
        self.group = group
        association = self.ae.associate(self.host, self.port, contexts=self.groups[group], ae_title=self.ae_title,
                                        tls_args=self.tls_args, evt_handlers=[(evt.EVT_CONN_OPEN, _no_delay)])
        self.opened += 1
        if association.is_established:
            self.current = association
        else:
            log.warning("cmove.subassociation_failed", destination=self.ae_title, group=group + 1)

    def accepted(self) -> dict[str, list[str]]:
        """SOP class -> syntaxes the association in use accepted (empty when there is none)."""
        return accepted_storage(self.current) if self.current is not None else {}

    def send_c_store(self, dataset: Dataset, **options: Any) -> Dataset:
        if self.current is None or not self.current.is_established:
            raise TransportError(f"no association to {self.ae_title} for this instance's group")
        return type(self.current).send_c_store(self.current, dataset, **options)

    def release(self) -> None:
        self._release_current()

    def _adopt(self, event: Any) -> None:
        _no_delay(event)
        self.current = association = event.assoc
        self.opened += 1
        association.send_c_store = self.send_c_store
        association.release = self.release

    def _release_current(self) -> None:
        association, self.current = self.current, None
        if association is not None:
            type(association).release(association)


def _no_delay(event: Any) -> None:
    # Before the A-ASSOCIATE-RQ goes out: without it each small C-STORE waits for a delayed ACK.
    set_nodelay(association_socket(event.assoc))
    # And before its reactor runs: a fast destination's response must reach the sending thread.
    requeue_stolen_responses(event.assoc)
