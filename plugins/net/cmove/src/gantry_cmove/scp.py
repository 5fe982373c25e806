"""The C-MOVE SCP: sends the instances the index holds for a retrieve request to the destination
AE the request names, looked up in ``[cmove] destinations`` (unknown: 0xA801).

pynetdicom does the sub-operations: the handler yields the destination ``(host, port, kwargs)``,
then the number of sub-operations, then one ``(pending, dataset)`` per instance, which pynetdicom
sends with C-STORE on its association to the destination, counting and reporting each; it sends
the final Success, or Warning 0xB000 when some failed. Between instances a C-CANCEL ends it with
``(cancel, None)``. The association to the destination proposes one context per (SOP class,
transfer syntax) the files need (gantry-cstore's batch planning) and gets TCP_NODELAY as soon as
it connects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydicom import Dataset
from pynetdicom import evt
from pynetdicom.presentation import build_context

from gantry import StorageError
from gantry.log import Phi, get_logger
from gantry.storage import LEVEL_KEYS

from gantry_cfind.models import LEVELS_BY_WIRE
from gantry_cfind.scp import DOES_NOT_MATCH_SOP_CLASS, UNABLE_TO_PROCESS
from gantry_cget.scp import instance_to_send, request_filters
from gantry_cmove.models import CANCELLED, MOVE_SOP_CLASSES, PENDING
from gantry_cmove.settings import Destination, MoveSettings
from gantry_cstore.batches import MAX_CONTEXTS, Batch
from gantry_cstore.scu import identify
from gantry_dimse.services import ScpRole, failure_status
from gantry_dimse.sockets import association_socket, set_nodelay

log = get_logger(__name__)

VERIFICATION = "1.2.840.10008.1.1"
UNKNOWN_DESTINATION = (None, None)


class MoveScp:
    """Answers C-MOVE requests from ``backend`` (see the module docstring)."""

    def __init__(self, kernel: Any, backend: Any, settings: MoveSettings) -> None:
        self.kernel = kernel
        self.backend = backend
        self.settings = settings

    def handle_move(self, event: Any) -> Iterator[Any]:
        destination = self.settings.destination(str(event.move_destination or ""))
        if destination is None:
            log.warning("cmove.unknown_destination", destination=str(event.move_destination))
            yield UNKNOWN_DESTINATION
            return
        rows_or_failure = self._matches(event.identifier)
        if isinstance(rows_or_failure, Dataset):
            # pynetdicom opens the destination association before it reads a status, so a
            # refused request still needs a (minimal) association to send nothing on.
            yield _address(destination, [build_context(VERIFICATION)])
            yield 1
            yield rows_or_failure, None
            return
        rows = rows_or_failure
        batch = Batch()
        for row in rows:
            batch.add(identify(self.kernel, row["location"]))
        # Instances whose context does not fit fail their sub-operation (pynetdicom finds no context).
        contexts = [build_context(uid, list(syntaxes)) for uid, syntaxes in batch.contexts()[:MAX_CONTEXTS]]
        yield _address(destination, contexts or [build_context(VERIFICATION)])
        yield len(rows)
        for row in rows:
            if event.is_cancelled:
                yield CANCELLED, None
                return
            yield PENDING, instance_to_send(row, "cmove")

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


def _address(destination: Destination, contexts: list[Any]) -> tuple[str, int, dict[str, Any]]:
    # pynetdicom associates from the listener's AE, which proposes no contexts of its own.
    return destination.host, destination.port, {"contexts": contexts,
                                                "evt_handlers": [(evt.EVT_CONN_OPEN, _no_delay)]}


def _no_delay(event: Any) -> None:
    # Before the A-ASSOCIATE-RQ goes out: without it each small C-STORE waits for a delayed ACK.
    set_nodelay(association_socket(event.assoc))
