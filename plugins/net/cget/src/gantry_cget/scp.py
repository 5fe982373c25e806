"""The C-GET SCP: sends the instances the index holds for a retrieve request back as C-STORE
sub-operations on the requestor's own association, each in its stored syntax when the requestor
accepted a context for it, transcoded losslessly otherwise (:mod:`gantry_cget.sending`).

The identifier's keys at the request's level and above (the unique key of that level must have a
value: C-GET retrieves named entities, PS3.4 C.4.3.1.3) become ``backend.query("instance", ...)``
filters, with the C-FIND SCP's matching. The handler follows pynetdicom's C-GET contract: it
yields the number of sub-operations, then one ``(pending, dataset)`` per instance, which
pynetdicom sends with ``send_c_store`` and counts; a C-CANCEL ends it with ``(cancel, None)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydicom import Dataset
from pynetdicom import evt

from gantry import StorageError
from gantry.header import text_of
from gantry.log import Phi, get_logger
from gantry.storage import LEVEL_KEYS

from gantry_cfind.identifiers import MESSAGE_KEYWORDS
from gantry_cfind.models import LEVELS_BY_WIRE
from gantry_cfind.scp import CANCELLED, DOES_NOT_MATCH_SOP_CLASS, PENDING, UNABLE_TO_PROCESS, matchable_keywords
from gantry_cget.models import GET_SOP_CLASSES
from gantry_cget.sending import accepted_storage, dataset_to_send, instance_to_send
from gantry_cstore.scp import decodable_syntaxes, storage_sop_classes
from gantry_dimse.services import ScpRole, failure_status

log = get_logger(__name__)


class GetScp:
    """Answers C-GET requests from ``backend`` (see the module docstring)."""

    def __init__(self, backend: Any, kernel: Any = None) -> None:
        self.backend = backend
        self.kernel = kernel
        """For transcoding an instance the requestor takes in no syntax of its own."""

    def handle_get(self, event: Any) -> Iterator[Any]:
        request: Dataset = event.identifier
        level = LEVELS_BY_WIRE.get(str(request.get("QueryRetrieveLevel", "") or "").strip().upper())
        if level is None:
            yield 1
            yield failure_status(DOES_NOT_MATCH_SOP_CLASS, "QueryRetrieveLevel must be PATIENT, STUDY, SERIES or IMAGE"), None
            return
        filters = request_filters(request, level)
        if not filters.get(LEVEL_KEYS[level]):
            yield 1
            yield failure_status(DOES_NOT_MATCH_SOP_CLASS, f"a {level}-level C-GET needs {LEVEL_KEYS[level]}"), None
            return
        try:
            rows = self.backend.query("instance", filters)
        except StorageError as err:
            log.warning("cget.query_failed", level=level, error=Phi(str(err)))
            yield 1
            yield failure_status(UNABLE_TO_PROCESS, f"the index cannot answer: {err}"), None
            return
        yield len(rows)
        accepted = accepted_storage(event.assoc)
        for row in rows:
            if event.is_cancelled:
                yield CANCELLED, None
                return
            yield PENDING, dataset_to_send(self.kernel, row, accepted, "cget")

    def role(self, transfer_syntaxes: tuple[str, ...] = ()) -> ScpRole:
        storage = storage_sop_classes()
        # The storage classes only as role selection: the listener adds them (with these syntaxes,
        # compressed ones included) when no C-STORE SCP did, and otherwise keeps that SCP's.
        return ScpRole(service="C-GET", abstract_syntaxes=tuple(GET_SOP_CLASSES.values()),
                       transfer_syntaxes=transfer_syntaxes, role_selection=storage,
                       handlers=((evt.EVT_C_GET, self.handle_get),), close=self.close)

    def close(self) -> None:
        """Close the backend (once: a listener may be stopped twice)."""
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def get_scp(kernel: Any) -> ScpRole:
    """The role ``gantry listen`` adds: answers from the site's ``storage.database``."""
    return GetScp(kernel.open_storage(kernel.config.storage.database), kernel).role(decodable_syntaxes(kernel))


def request_filters(request: Dataset, level: str) -> dict[str, str]:
    """The index filters of a retrieve request (C-GET, C-MOVE): its matchable keys with values."""
    matchable = matchable_keywords(level)
    return {item.keyword: text for item in request
            if item.keyword in matchable and item.keyword not in MESSAGE_KEYWORDS and item.VR != "SQ"
            and (text := text_of(item.value, item.VR)) and text != "*"}


__all__ = ["GetScp", "get_scp", "instance_to_send", "request_filters"]
