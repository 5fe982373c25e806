"""The C-MOVE SCP: sends the instances the index holds for a retrieve request to the destination
AE the request names, looked up in ``[cmove] destinations`` (unknown: 0xA801).

pynetdicom does the sub-operations: the handler yields the destination ``(host, port, kwargs)``,
then the number of sub-operations, then one ``(pending, dataset)`` per instance, which pynetdicom
sends with C-STORE on its association to the destination, counting and reporting each; it sends
the final Success, or Warning 0xB000 when some failed. Between instances a C-CANCEL ends it with
``(cancel, None)``. The associations to the destination propose one context per (SOP class,
transfer syntax) the files need (gantry-cstore's batch planning), several in sequence when the
matches need more than 128 (:mod:`gantry_cmove.subassociations`); each gets TCP_NODELAY as soon
as it connects, and TLS when the destination says ``tls`` (the site's ``[tls]`` client settings).
An instance goes in its stored syntax when the destination took it, transcoded losslessly to a
syntax it took otherwise (:mod:`gantry_cget.sending`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydicom import Dataset
from pynetdicom import evt
from pynetdicom.presentation import build_context

from gantry import GantryError, StorageError
from gantry.log import Phi, get_logger
from gantry.storage import LEVEL_KEYS

from gantry_cfind.models import LEVELS_BY_WIRE
from gantry_cfind.scp import DOES_NOT_MATCH_SOP_CLASS, UNABLE_TO_PROCESS
from gantry_cget.scp import request_filters
from gantry_cget.sending import dataset_to_send
from gantry_cmove.models import CANCELLED, MOVE_SOP_CLASSES, PENDING
from gantry_cmove.settings import Destination, MoveSettings
from gantry_cmove.subassociations import VERIFICATION, SubAssociations, plan
from gantry_dimse.services import ScpRole, failure_status

log = get_logger(__name__)

UNKNOWN_DESTINATION = (None, None)


class MoveScp:
    """Answers C-MOVE requests from ``backend`` (see the module docstring)."""

    def __init__(self, kernel: Any, backend: Any, settings: MoveSettings) -> None:
        self.kernel = kernel
        self.backend = backend
        self.settings = settings
        self._ssl_context: Any = None

    def handle_move(self, event: Any) -> Iterator[Any]:
        destination = self.settings.destination(str(event.move_destination or ""))
        if destination is None:
            log.warning("cmove.unknown_destination", destination=str(event.move_destination))
            yield UNKNOWN_DESTINATION
            return
        try:
            tls_args = self._tls_args(destination)
        except (GantryError, ImportError) as err:  # gantry-tls missing, or its files unreadable
            log.error("cmove.tls_unavailable", destination=destination.ae,
                      error=str(err) if isinstance(err, GantryError) else "gantry-tls is not installed")
            yield UNKNOWN_DESTINATION
            return
        rows_or_failure = self._matches(event.identifier)
        if isinstance(rows_or_failure, Dataset):
            # pynetdicom opens the destination association before it reads a status, so a
            # refused request still needs a (minimal) association to send nothing on.
            yield SubAssociations(event.assoc.ae, destination.host, destination.port, destination.ae,
                                  [[build_context(VERIFICATION)]], tls_args).destination()
            yield 1
            yield rows_or_failure, None
            return
        groups, order = plan(self.kernel, rows_or_failure)
        associations = SubAssociations(event.assoc.ae, destination.host, destination.port, destination.ae,
                                       groups, tls_args)
        yield associations.destination()
        yield len(order)
        for group, row in order:
            if event.is_cancelled:
                yield CANCELLED, None
                return
            associations.enter(group)
            yield PENDING, dataset_to_send(self.kernel, row, associations.accepted(), "cmove")

    def _tls_args(self, destination: Destination) -> tuple[Any, str] | None:
        """pynetdicom's ``(client SSL context, server host name)`` for a TLS destination."""
        if not destination.tls:
            return None
        if self._ssl_context is None:
            from gantry_tls.contexts import client_ssl_context  # gantry-tls: only for TLS destinations

            self._ssl_context = client_ssl_context(self.kernel.settings("tls") if "tls" in self.kernel.records
                                                   else None)
        return self._ssl_context, destination.host

    def _matches(self, request: Dataset) -> list[dict[str, Any]] | Dataset:
        """The index rows to send, or the failure status that refuses the request."""
        level = LEVELS_BY_WIRE.get(str(request.get("QueryRetrieveLevel", "") or "").strip().upper())
        if level is None:
            return failure_status(DOES_NOT_MATCH_SOP_CLASS, "QueryRetrieveLevel must be PATIENT, STUDY, SERIES or IMAGE")
        filters = request_filters(request, level)
        if not filters.get(LEVEL_KEYS[level]):
            # C-MOVE retrieves named entities (PS3.4 C.4.2.1.4): the level's unique key must have a value.
            return failure_status(DOES_NOT_MATCH_SOP_CLASS, f"a {level}-level C-MOVE needs {LEVEL_KEYS[level]}")
        try:
            return list(self.backend.query("instance", filters))
        except StorageError as err:
            log.warning("cmove.query_failed", level=level, error=Phi(str(err)))
            return failure_status(UNABLE_TO_PROCESS, f"the index cannot answer: {err}")

    def role(self) -> ScpRole:
        return ScpRole(service="C-MOVE", abstract_syntaxes=tuple(MOVE_SOP_CLASSES.values()),
                       handlers=((evt.EVT_C_MOVE, self.handle_move),), close=self.close)

    def close(self) -> None:
        """Close the backend (once: a listener may be stopped twice)."""
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def move_scp(kernel: Any) -> ScpRole:
    """The role ``gantry listen`` adds: answers from ``storage.database``, sends to ``cmove.destinations``."""
    settings = MoveSettings.from_mapping(kernel.settings("cmove") if "cmove" in kernel.records else None)
    return MoveScp(kernel, kernel.open_storage(kernel.config.storage.database), settings).role()
