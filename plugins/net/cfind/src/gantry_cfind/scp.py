"""The C-FIND SCP: answers Patient Root and Study Root queries from the storage backend's index.

Matching is the backend's (PS3.4 C.2.2.2: wildcards, ranges, UID lists): the identifier's keys
that the index holds at the query's level or above become ``backend.query`` filters. Every answer
holds exactly the keys asked for, filled from the index row, empty where the index has no value
or does not know the attribute (then the pending status is 0xFF01, "optional keys not
supported", rather than a failure). The SCP is lenient about the model: a Study Root query at
PATIENT level is answered as the Patient Root one would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydicom import Dataset
from pynetdicom import evt

from gantry import StorageError
from gantry.header import text_of
from gantry.log import Phi, get_logger
from gantry.storage import COMPUTED_ATTRIBUTES, INDEX_ATTRIBUTES, LEVELS

from gantry_cfind.identifiers import MESSAGE_KEYWORDS, element, mark_utf8_if_needed
from gantry_cfind.models import FIND_SOP_CLASSES, LEVELS_BY_WIRE
from gantry_dimse.services import ScpRole, failure_status

log = get_logger(__name__)

PENDING = 0xFF00
PENDING_UNSUPPORTED_KEYS = 0xFF01
SUCCESS = 0x0000
CANCELLED = 0xFE00
DOES_NOT_MATCH_SOP_CLASS = 0xA900
UNABLE_TO_PROCESS = 0xC000
#: ErrorComment is an LO: at most 64 characters.


def matchable_keywords(level: str) -> frozenset[str]:
    """What a query at ``level`` can match on: its attributes, those above, its computed ones."""
    above = LEVELS[:LEVELS.index(level) + 1]
    return frozenset(keyword for name in above for keyword in INDEX_ATTRIBUTES[name]) | set(COMPUTED_ATTRIBUTES[level])


class FindScp:
    """Answers C-FIND requests from ``backend`` (see the module docstring)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def handle_find(self, event: Any) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        request: Dataset = event.identifier
        level = LEVELS_BY_WIRE.get(str(request.get("QueryRetrieveLevel", "") or "").strip().upper())
        if level is None:
            yield failure_status(DOES_NOT_MATCH_SOP_CLASS,
                           "QueryRetrieveLevel must be PATIENT, STUDY, SERIES or IMAGE"), None
            return
        asked = [item for item in request if item.keyword and item.keyword not in MESSAGE_KEYWORDS]
        matchable = matchable_keywords(level)
        filters = {item.keyword: text for item in asked
                   if item.keyword in matchable and item.VR != "SQ"
                   and (text := text_of(item.value, item.VR)) and text != "*"}
        try:
            rows = self.backend.query(level, filters)
        except StorageError as err:
            log.warning("cfind.query_failed", level=level, error=Phi(str(err)))
            yield failure_status(UNABLE_TO_PROCESS, f"the index cannot answer: {err}"), None
            return
        unsupported = any(item.keyword not in matchable for item in asked)
        pending = PENDING_UNSUPPORTED_KEYS if unsupported else PENDING
        for row in rows:
            if event.is_cancelled:
                yield CANCELLED, None
                return
            yield pending, _answer(request, asked, row)
        yield SUCCESS, None

    def role(self) -> ScpRole:
        return ScpRole(service="C-FIND", abstract_syntaxes=tuple(FIND_SOP_CLASSES.values()),
                       handlers=((evt.EVT_C_FIND, self.handle_find),), close=self.close)

    def close(self) -> None:
        """Close the backend (once: a listener may be stopped twice)."""
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()


def find_scp(kernel: Any) -> ScpRole:
    """The role ``gantry listen`` adds: answers from the site's ``storage.database``."""
    return FindScp(kernel.open_storage(kernel.config.storage.database)).role()


def _answer(request: Dataset, asked: list[Any], row: dict[str, Any]) -> Dataset:
    answer = Dataset()
    answer.QueryRetrieveLevel = request.QueryRetrieveLevel
    for item in asked:
        value = row.get(item.keyword)
        try:
            answer.add(element(item.keyword, None if value is None or item.VR == "SQ" else value))
        except (ValueError, TypeError):  # an index value that does not fit the VR: answered empty
            answer.add(element(item.keyword, None))
    mark_utf8_if_needed(answer)
    return answer


