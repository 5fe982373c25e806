"""Sending a file's C-STORE straight onto the socket, and taking its response off the wire.

The sending side of :mod:`gantry_dimse.direct_store`. pynetdicom's ``send_c_store`` pauses the
association's reactor thread, builds a primitive and a command dataset, queues the dataset's
P-DATA fragments for the DUL thread to encode and send, and waits for the response to come back
the same way (decoded into a ``DIMSEMessage``, then a primitive). For a small file that was most
of a sender's CPU.

:func:`send_file` does it directly, in the calling thread:

1. the command set is written as bytes and goes out in the same ``sendmsg`` as the first
   dataset fragment, read from the file after its File Meta (never the whole file in memory);
2. each further fragment is one P-DATA-TF PDU no larger than the peer's maximum;
3. the DUL thread, which still reads every PDU, hands a C-STORE-RSP answering this message
   straight to the waiting sender (:class:`_Responses`); every other PDU is pynetdicom's as before.

It returns None, and the caller uses ``send_c_store``, where it is not sure: a TLS association
(an SSL connection must not be written by one thread while another may read it), no accepted
context for exactly this SOP class and transfer syntax, a file without a File Meta group length.
"""

from __future__ import annotations

import os
import queue
import socket
import ssl
import struct
import threading
from typing import Any

from pydicom.tag import BaseTag

from gantry_dimse.commands import COMMAND, LAST, command_set_bytes, pdata_header, us_value, whole_command
from gantry_dimse.direct_store import between_messages
from gantry_dimse.services import AssociationLost

C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
DATASET_PRESENT = 0x0001  # any value but 0x0101 (as pynetdicom sends)
MEDIUM_PRIORITY = 0x0000
#: Fragment size when the peer sets no maximum PDU length (0: unlimited).
UNLIMITED_FRAGMENT = 256 * 1024
#: How often a sender waiting for its response checks that the association still stands.
CHECK_EVERY = 0.25
FILE_META_START = 132  # 128-byte preamble and "DICM"
#: What a waiting sender is given for a response of ours without a readable Status.
MALFORMED = -1

COMMAND_FIELD, RESPONDING_TO, STATUS = BaseTag(0x00000100), BaseTag(0x00000120), BaseTag(0x00000900)
ERROR_COMMENT = BaseTag(0x00000902)


class _ReadFailed(Exception):
    """The file could not be read to its end while its C-STORE was going out."""


class _Responses:
    """Our C-STORE-RSPs, taken from the DUL thread's PDUs for the senders waiting on them."""

    def __init__(self, assoc: Any) -> None:
        self.assoc = assoc
        self.waiting: dict[int, queue.SimpleQueue[tuple[int, str]]] = {}
        self.lock = threading.Lock()
        self.next_id = 0
        self.pynetdicom_receive = assoc.dimse.receive_primitive
        assoc.dimse.receive_primitive = self.receive

    def new_message(self) -> tuple[int, queue.SimpleQueue[tuple[int, str]]]:
        with self.lock:
            self.next_id = self.next_id % 0xFFFF + 1  # Message IDs are US, 1-65535
            answer: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
            self.waiting[self.next_id] = answer
            return self.next_id, answer

    def forget(self, message_id: int) -> None:
        with self.lock:
            self.waiting.pop(message_id, None)

    def receive(self, primitive: Any) -> None:
        items = primitive.presentation_data_value_list
        if len(items) == 1 and self.waiting and between_messages(self.assoc):
            answered = self._answer(whole_command(items[0][1]))
            if answered:
                return
        self.pynetdicom_receive(primitive)

    def _answer(self, elements: Any) -> bool:
        """Hand a C-STORE-RSP to the sender waiting for it; False when it is none of ours."""
        try:
            if elements is None or us_value(elements[COMMAND_FIELD]) != C_STORE_RSP:
                return False
            with self.lock:
                answer = self.waiting.pop(us_value(elements[RESPONDING_TO]), None)
        except (KeyError, struct.error):
            return False  # pynetdicom says what is wrong with it
        if answer is None:
            return False
        try:
            status = us_value(elements[STATUS])
        except (KeyError, struct.error):
            status = MALFORMED
        comment = elements[ERROR_COMMENT].value if ERROR_COMMENT in elements else b""
        answer.put((status, comment.decode("ascii", "replace").rstrip("\x00 ")))
        return True


_INSTALL_LOCK = threading.Lock()


def _responses(assoc: Any) -> _Responses:
    with _INSTALL_LOCK:
        responses = assoc.__dict__.get("_gantry_responses")
        if responses is None:
            responses = assoc._gantry_responses = _Responses(assoc)
        return responses


def send_file(assoc: Any, path: str, sop_class_uid: str, sop_instance_uid: str,
              transfer_syntax_uid: str) -> tuple[int, str] | None:
    """C-STORE the dataset of the Part 10 file at ``path``: ``(status, error comment)``, or None
    when this is left to pynetdicom (see the module docstring). AssociationLost when the
    association ends, or the DIMSE timeout passes (the association is then aborted), before
    the response."""
    sock = getattr(assoc.dul.socket, "socket", None)
    if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket):  # no connection, or TLS
        return None
    context_id = _context_for(assoc, sop_class_uid, transfer_syntax_uid)
    if context_id is None:
        return None
    with open(path, "rb") as source:
        offset = _dataset_offset(source)
        if offset is None:
            return None
        responses = _responses(assoc)
        message_id, answer = responses.new_message()
        try:
            command = command_set_bytes([
                (0x0002, "UI", sop_class_uid), (0x0100, "US", C_STORE_RQ), (0x0110, "US", message_id),
                (0x0700, "US", MEDIUM_PRIORITY), (0x0800, "US", DATASET_PRESENT), (0x1000, "UI", sop_instance_uid)])
            _send_message(sock, context_id, command, source, offset, _fragment_size(assoc))
        except (OSError, _ReadFailed) as err:  # half a message is out: the association cannot go on
            responses.forget(message_id)
            assoc.abort()
            what = f"reading {path} failed" if isinstance(err, _ReadFailed) else "the connection failed"
            raise AssociationLost(f"{what} while sending: {err}; association aborted") from err
        status, comment = _wait(assoc, responses, message_id, answer)
    if status == MALFORMED:
        assoc.abort()
        raise AssociationLost("the peer's C-STORE response has no readable Status; association aborted")
    return status, comment


def _send_message(sock: socket.socket, context_id: int, command: bytes, source: Any, offset: int,
                  fragment_size: int) -> None:
    remaining = os.fstat(source.fileno()).st_size - offset
    source.seek(offset)
    buffer = bytearray(min(fragment_size, max(remaining, 1)))
    view = memoryview(buffer)
    parts = [pdata_header(context_id, COMMAND | LAST, len(command)), command]  # with the first fragment
    while True:
        try:
            count = source.readinto(view[:min(len(buffer), remaining)])
        except OSError as err:
            raise _ReadFailed(err.strerror or str(err)) from err
        if count <= 0 and remaining > 0:
            raise _ReadFailed(f"the file ended {remaining} bytes early (did it change while being sent?)")
        remaining -= count
        parts += [pdata_header(context_id, 0 if remaining > 0 else LAST, count), view[:count]]
        _send_all(sock, parts)
        if remaining <= 0:
            return
        parts = []


def _send_all(sock: socket.socket, parts: list[Any]) -> None:
    """``sendmsg`` until every byte of ``parts`` is out (it may take only some)."""
    views = [memoryview(part).cast("B") for part in parts]
    while views:
        sent = sock.sendmsg(views)
        while views and sent >= views[0].nbytes:
            sent -= views[0].nbytes
            views.pop(0)
        if sent:
            views[0] = views[0][sent:]


def _wait(assoc: Any, responses: _Responses, message_id: int, answer: Any) -> tuple[int, str]:
    timeout = assoc.dimse_timeout
    waited = 0.0
    while True:
        try:
            return answer.get(timeout=CHECK_EVERY)
        except queue.Empty:
            waited += CHECK_EVERY
        if not assoc.is_established:
            responses.forget(message_id)
            raise AssociationLost("the association ended before the C-STORE response")
        if timeout is not None and waited >= timeout:
            responses.forget(message_id)
            assoc.abort()
            raise AssociationLost(f"no C-STORE response within the DIMSE timeout ({timeout} s); association aborted")


def _context_for(assoc: Any, sop_class_uid: str, transfer_syntax_uid: str) -> int | None:
    for context in assoc.accepted_contexts:
        if (str(context.abstract_syntax) == sop_class_uid and str(context.transfer_syntax[0]) == transfer_syntax_uid
                and context.as_scu is not False):
            return int(context.context_id)
    return None


def _fragment_size(assoc: Any) -> int:
    limit = assoc.acceptor.maximum_length  # what the peer receives
    return UNLIMITED_FRAGMENT if not limit else max(1, limit - 6)  # minus the PDV's own header


def _dataset_offset(source: Any) -> int | None:
    """Where the dataset starts: after the File Meta, by its group length (None: no such group)."""
    head = source.read(FILE_META_START + 12)
    if len(head) < FILE_META_START + 12 or head[128:132] != b"DICM":
        return None
    group, element, vr, length, value = struct.unpack_from("<HH2sHI", head, FILE_META_START)
    if (group, element, vr, length) != (0x0002, 0x0000, b"UL", 4):
        return None
    return FILE_META_START + 12 + value
