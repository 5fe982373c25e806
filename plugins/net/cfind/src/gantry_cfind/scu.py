"""The C-FIND SCU: ``peer.find(level, keys, model=..., limit=...)`` on a ``dicom://`` adapter.

Answers are collected while the association is lent and handed back afterwards: an association
goes back to the pool only after its C-FIND has ended (success, cancel or failure), so no other
operation can interleave with an unfinished query. If a *reused* association turns out dead, the
whole query runs again on a fresh one and the answers already collected are dropped, so nothing
comes twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydicom import Dataset

from gantry import TransportError

from gantry_cfind.identifiers import build_identifier
from gantry_cfind.models import (
    FIND_SOP_CLASSES,
    MODEL_LEVELS,
    NOT_SINGLE,
    WIRE_LEVELS,
    normalise_level,
    required_unique_keys,
)
from gantry_dimse.services import AssociationLost, DimseChannel

PENDING = (0xFF00, 0xFF01)
SUCCESS = 0x0000
CANCELLED = 0xFE00
MESSAGE_ID = 1


def find_scu(channel: DimseChannel, level: str, keys: Mapping[str, str], *, model: str = "study",
             limit: int | None = None) -> Iterator[Dataset]:
    """The matches the peer answers, one pydicom Dataset each; with ``limit``, a C-CANCEL after
    that many. TransportError for a query the model cannot express, or a failure status."""
    identifier, sop_class = prepare_query(channel.url, level, keys, model)
    if limit is not None and limit < 1:
        return iter(())

    def query(association: Any) -> list[Dataset]:
        return _collect(association, identifier, sop_class, limit, channel.url)

    return iter(channel.run((sop_class,), query))


def prepare_query(url: str, level: str, keys: Mapping[str, str], model: str) -> tuple[Dataset, str]:
    """The identifier to send and the FIND SOP class, after checking the query is hierarchical."""
    try:
        level = normalise_level(level)
    except ValueError as err:
        raise TransportError(f"{url}: {err}") from None
    if model not in FIND_SOP_CLASSES:
        raise TransportError(f"{url}: unknown query model {model!r}: use 'study' or 'patient'")
    if level not in MODEL_LEVELS[model]:
        raise TransportError(f"{url}: the {model.title()} Root model has no {WIRE_LEVELS[level]} level; "
                             f"query patients with model='patient'")
    for keyword in required_unique_keys(model, level):
        value = (keys.get(keyword) or "").strip()
        if not value or any(mark in value for mark in NOT_SINGLE):
            raise TransportError(f"{url}: a {WIRE_LEVELS[level]}-level query in the {model.title()} Root "
                                 f"model needs {keyword} with one single value (a hierarchical query "
                                 f"names every level above it, PS3.4 C.4.1.2.2)")
    try:
        identifier = build_identifier({key: value for key, value in keys.items() if key != "QueryRetrieveLevel"},
                                      extra=[("QueryRetrieveLevel", WIRE_LEVELS[level])])
    except ValueError as err:  # an unknown keyword, a number that is not one
        raise TransportError(f"{url}: bad query key: {err}") from None
    return identifier, FIND_SOP_CLASSES[model]


def _collect(association: Any, identifier: Dataset, sop_class: str, limit: int | None,
             url: str) -> list[Dataset]:
    answers: list[Dataset] = []
    cancelled = False
    for status, answer in association.send_c_find(identifier, sop_class, msg_id=MESSAGE_ID):
        if "Status" not in status:
            raise AssociationLost(f"{url}: no C-FIND response (the association ended or the DIMSE "
                                  f"timeout passed)")
        code = int(status.Status)
        if code in PENDING:
            if answer is not None and not cancelled:
                answers.append(answer)
            if limit is not None and len(answers) >= limit and not cancelled:
                # Answers still in flight are read and dropped until the peer's final status.
                association.send_c_cancel(MESSAGE_ID, query_model=sop_class)
                cancelled = True
            continue
        if code in (SUCCESS, CANCELLED) or 0xB000 <= code <= 0xBFFF:  # a warning ends the matches too
            return answers
        raise TransportError(f"{url}: C-FIND failed: {status_text(status)}")
    return answers


def status_text(status: Dataset) -> str:
    """``status 0xA900 (Identifier Does Not Match SOP Class): <the peer's comment>``."""
    from pynetdicom.status import QR_FIND_SERVICE_CLASS_STATUS

    code = int(status.Status)
    meaning = QR_FIND_SERVICE_CLASS_STATUS.get(code, ("", "unknown status"))[1]
    comment = str(status.get("ErrorComment", "") or "").strip()
    return f"status 0x{code:04X} ({meaning})" + (f": {comment}" if comment else "")
