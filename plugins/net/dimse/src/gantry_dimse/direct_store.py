"""C-STORE requests taken off the wire whole, answered from the thread that read them.

pynetdicom turns every received message into a chain of objects and threads: the P-DATA
fragments become a ``DIMSEMessage`` (a pydicom command dataset filled from a template, the
dataset grown in a ``BytesIO``), then a ``C_STORE`` primitive (each UID validated), queued for
the association's thread, which builds a service class, an ``Event`` and a response primitive,
encodes that as another command dataset and queues its P-DATA back to the DUL thread. For a
small instance that was over half of a receiver's CPU, more than Gantry's own work on it
(reading its header, writing, fsync, indexing).

:func:`take_stores_directly` puts a listener association's C-STORE requests on a shorter path,
in the DUL thread that decodes the PDUs:

1. a message whose first fragment is a whole command set saying C-STORE-RQ with a dataset, on
   an accepted context of a storage SOP class that is the request's own and for which we are
   the SCP, is taken here; anything else goes to pynetdicom untouched (C-ECHO, C-FIND ..., and
   any C-STORE this module is not sure about);
2. its dataset fragments are kept as they arrive (views, no copies) until the last one;
3. the role's handler gets a :class:`StoreRequest` and returns a status as pynetdicom's
   ``EVT_C_STORE`` handlers do (an int, or a dataset with Status and Error Comment); an
   exception is 0xC211, as pynetdicom answers;
4. the C-STORE-RSP is written here as bytes (``test_dimse_direct_store`` holds them equal to
   pynetdicom's) and sent as one P-DATA-TF PDU; one that would not fit the peer's maximum PDU
   length goes through pynetdicom's ``send_msg``.

A peer that aborts mid-dataset, or a dataset fragment on another context or interleaved with a
command, ends that request without calling the handler (nothing is stored); the latter is a
protocol error and aborts the association, as an invalid PDU does. While the handler runs, the
association's network idle timer is stopped: a write slower than ``network_timeout`` is not a
silent peer.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs
from pydicom.tag import BaseTag
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA
from pynetdicom.service_class import StorageServiceClass
from pynetdicom.sop_class import uid_to_service_class

from gantry.log import get_logger
from gantry_dimse.commands import COMMAND, LAST, command_set_bytes, pdata_header, ui_value, us_value, whole_command

log = get_logger(__name__)

C_STORE_RQ = 0x0001
C_STORE_RSP = 0x8001
NO_DATASET = 0x0101
#: pynetdicom's status for an exception in an EVT_C_STORE handler ("Failed - unable to process").
HANDLER_FAILED = 0xC211
#: Error Comment (0000,0902) is LO: at most 64 characters.
COMMENT_LENGTH = 64

COMMAND_FIELD, DATASET_TYPE, MESSAGE_ID = BaseTag(0x00000100), BaseTag(0x00000800), BaseTag(0x00000110)
SOP_CLASS, SOP_INSTANCE = BaseTag(0x00000002), BaseTag(0x00001000)


@attrs.frozen
class StoreRequest:
    """A whole C-STORE request, as the direct path hands it to the role's handler."""

    assoc: Any
    """The pynetdicom association (who sent it; ``emit_later`` finds the listener through it)."""
    context_id: int
    transfer_syntax: str
    sop_class_uid: str
    sop_instance_uid: str
    message_id: int
    fragments: tuple[memoryview, ...]
    """The dataset as received, in order: join them for its bytes."""


StoreHandler = Callable[[StoreRequest], Any]


@attrs.define
class _Incoming:
    request: dict[str, Any]
    fragments: list[memoryview]


class _DirectStores:
    def __init__(self, assoc: Any, handler: StoreHandler) -> None:
        self.assoc = assoc
        self.handler = handler
        self.pynetdicom_receive = assoc.dimse.receive_primitive
        self.incoming: _Incoming | None = None
        assoc.dimse.receive_primitive = self.receive

    def receive(self, primitive: Any) -> None:
        items = primitive.presentation_data_value_list
        start = 0
        if self.incoming is None:
            if not items or not between_messages(self.assoc) or not self._take(*items[0]):
                self.pynetdicom_receive(primitive)
                return
            start = 1
        for position in range(start, len(items)):
            context_id, data = items[position]
            incoming = self.incoming
            if incoming is None:  # the next message in the same PDU: from the start again
                rest = P_DATA()
                rest.presentation_data_value_list = []  # (its setter wants lists; items are tuples)
                rest.presentation_data_value_list.extend(items[position:])
                self.receive(rest)
                return
            if data[0] & COMMAND or context_id != incoming.request["context_id"]:
                self.incoming = None
                log.warning("dimse.direct_store.bad_fragment", peer=_peer(self.assoc),
                            why="a command or another context inside a C-STORE dataset")
                self.assoc.dul.event_queue.put("Evt19")  # an invalid PDU: A-ABORT
                return
            incoming.fragments.append(memoryview(data)[1:])
            if data[0] & LAST:
                self.incoming = None
                self._answer(StoreRequest(fragments=tuple(incoming.fragments), **incoming.request))

    def _take(self, context_id: int, data: bytes) -> bool:
        """Start a direct C-STORE when ``data`` is a whole command set we are sure about."""
        elements = whole_command(data)
        if elements is None:
            return False
        try:
            if us_value(elements[COMMAND_FIELD]) != C_STORE_RQ or us_value(elements[DATASET_TYPE]) == NO_DATASET:
                return False
            sop_class, sop_instance = ui_value(elements[SOP_CLASS]), ui_value(elements[SOP_INSTANCE])
            message_id = us_value(elements[MESSAGE_ID])
        except (KeyError, struct.error, UnicodeDecodeError):
            return False  # pynetdicom says what is wrong with it
        context = self.assoc._accepted_cx.get(context_id)
        if (context is None or not context.as_scp or str(context.abstract_syntax) != sop_class
                or not issubclass(uid_to_service_class(sop_class), StorageServiceClass)):
            return False
        self.incoming = _Incoming(request={
            "assoc": self.assoc, "context_id": context_id, "transfer_syntax": str(context.transfer_syntax[0]),
            "sop_class_uid": sop_class, "sop_instance_uid": sop_instance, "message_id": message_id}, fragments=[])
        return True

    def _answer(self, request: StoreRequest) -> None:
        # The handler runs in the thread that restarts the network idle timer on traffic: stopped
        # meanwhile, so that the association's thread does not take a slow write for a dead link.
        idle_timer = self.assoc.dul._idle_timer
        idle_timer.stop()
        try:
            outcome = self.handler(request)
        except Exception as err:
            log.error("dimse.direct_store.handler_failed", error=f"{type(err).__name__}")
            outcome = HANDLER_FAILED
        finally:
            idle_timer.restart()
        status, comment = _status(outcome)
        pdu = store_response_pdu(request, status, comment)
        limit = self.assoc.requestor.maximum_length
        if not limit or len(pdu) - 6 <= limit:
            self.assoc.dul.socket.send(pdu)
            return
        response = C_STORE()  # pynetdicom fragments what does not fit the peer's PDUs
        response.MessageIDBeingRespondedTo = request.message_id
        response.AffectedSOPClassUID = request.sop_class_uid
        response.AffectedSOPInstanceUID = request.sop_instance_uid
        response.Status = status
        if comment:
            response.ErrorComment = comment
        self.assoc.dimse.send_msg(response, request.context_id)


def between_messages(assoc: Any) -> bool:
    """pynetdicom is not in the middle of decoding a message of its own on ``assoc`` (it keeps
    one ``DIMSEMessage`` and empties its command buffer when a message is complete)."""
    message = assoc.dimse.message
    return message is None or message.encoded_command_set.tell() == 0


def take_stores_directly(assoc: Any, handler: StoreHandler) -> None:
    """From now on, ``assoc``'s C-STORE requests go to ``handler`` (see the module docstring)."""
    _DirectStores(assoc, handler)


def store_response_pdu(request: StoreRequest, status: int, comment: str = "") -> bytes:
    """A P-DATA-TF PDU with the C-STORE-RSP for ``request`` as one last command fragment."""
    elements: list[tuple[int, str, Any]] = [
        (0x0002, "UI", request.sop_class_uid), (0x0100, "US", C_STORE_RSP),
        (0x0120, "US", request.message_id), (0x0800, "US", NO_DATASET), (0x0900, "US", status)]
    if comment:
        elements.append((0x0902, "LO", comment[:COMMENT_LENGTH]))
    elements.append((0x1000, "UI", request.sop_instance_uid))
    command = command_set_bytes(elements)
    return pdata_header(request.context_id, COMMAND | LAST, len(command)) + command


def _status(outcome: Any) -> tuple[int, str]:
    if isinstance(outcome, int):
        return outcome, ""
    status = getattr(outcome, "Status", None)
    if not isinstance(status, int):
        log.error("dimse.direct_store.bad_status", got=type(outcome).__name__)
        return HANDLER_FAILED, ""
    return status, str(getattr(outcome, "ErrorComment", "") or "")


def _peer(assoc: Any) -> str:
    try:
        return f"{assoc.requestor.address}:{assoc.requestor.port}"
    except Exception:
        return "?"
