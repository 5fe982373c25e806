"""Test helpers for DIMSE service plugins (ours and third parties'): our listener started and
stopped around a test, dcmtk peers, and the check that a test leaves no thread behind.

    @pytest.fixture(autouse=True)
    def no_leftovers():
        with no_threads_left():
            yield

    @pytest.fixture
    def our_listener():
        with listeners() as start:
            yield start          # start(kernel, "OURAE", allow=(...)) -> a running Listener
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import struct
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gantry.testing.network import free_port, no_threads_left, wait_until

__all__ = ["DCMTK_ENV", "RawPeer", "accepts", "dcmtk", "dcmtk_server", "free_port", "held_until_cancelled",
           "listeners", "no_threads_left", "wait_until"]

#: dcmtk peers run with TCP_NODELAY, as /work/shared/peers.md explains (Nagle costs ~90 ms a message).
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}


def dcmtk(name: str) -> str:
    """The path of a dcmtk program; a clear failure when dcmtk is missing (`make test` installs it)."""
    import pytest

    program = shutil.which(name)
    if program is None:
        pytest.fail("dcmtk is not installed: apt-get install -y dcmtk (make test does)")
    return program


#: How long a dcmtk server may take to start listening.
STARTUP_SECONDS = 10.0


def accepts(port: int) -> bool:
    """Something listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def dcmtk_server(name: str, arguments: Sequence[str], port: int, log_path: Any) -> Iterator[subprocess.Popen[bytes]]:
    """dcmtk's ``name`` (storescp, dcmqrscp ...) run with ``arguments`` and TCP_NODELAY, its output
    in ``log_path``, until it listens on ``port``; stopped (terminated, killed if need be) at the
    end. The test fails with the server's log when it exits or does not listen at start."""
    import pytest

    with open(log_path, "wb") as log:  # the child has its own copy of the descriptor
        process = subprocess.Popen([dcmtk(name), *arguments], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=DCMTK_ENV)
    try:
        wait_until(lambda: process.poll() is not None or accepts(port), STARTUP_SECONDS)
        if process.poll() is not None or not accepts(port):
            pytest.fail(f"{name} did not start listening on port {port}: "
                        f"{open(log_path, encoding='utf-8', errors='replace').read()}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def listeners() -> Iterator[Callable[..., Any]]:
    """``start(kernel, ae_title="OURAE", **options)`` runs our Listener on 127.0.0.1 and a free
    port; every listener started is stopped at the end."""
    from gantry_dimse.listener import Listener

    started: list[Listener] = []

    def start(kernel: Any = None, ae_title: str = "OURAE", **options: Any) -> Listener:
        listener = Listener(kernel, ae_title, "127.0.0.1", 0, **options)
        started.append(listener)
        return listener.start()

    try:
        yield start
    finally:
        for listener in started:
            listener.stop()


def held_until_cancelled(role: Any, after: int, *, seconds: float = 20.0) -> tuple[Any, list[bool]]:
    """``role`` (an ScpRole) whose C-FIND/C-GET/C-MOVE handlers, after yielding ``after`` items
    of the *first* request, wait until the requestor's C-CANCEL has arrived (at most ``seconds``)
    before going on; later requests run as usual.

    Locally an SCP answers faster than any C-CANCEL can come back: held like this, the SCP's
    own handling of the cancel (``event.is_cancelled``, which this does not consume) is what
    decides how many results follow, every time. Returns the held role and a list that gets,
    per request held, whether the cancel had arrived when the hold ended.
    """
    import attrs

    seen: list[bool] = []
    requests: list[int] = []

    def hold(handler: Callable[..., Any]) -> Callable[..., Any]:
        def handle(event: Any) -> Iterator[Any]:
            message_id = event.request.MessageID
            first = not requests
            requests.append(message_id)
            items = iter(handler(event))
            number = 0
            while True:
                if first and number == after:  # before the handler is asked for its next item
                    seen.append(wait_until(lambda: message_id in event.assoc.dimse.cancel_req, seconds))
                try:
                    item = next(items)
                except StopIteration:
                    return
                number += 1
                yield item

        return handle

    return attrs.evolve(role, handlers=tuple((event, hold(handler)) for event, handler in role.handlers)), seen


# -- a misbehaving peer --------------------------------------------------------------------------

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
VERIFICATION = "1.2.840.10008.1.1"
A_ABORT = b"\x07\x00\x00\x00\x00\x04\x00\x00\x00\x00"


class RawPeer:
    """A requestor writing PDUs by hand, to break the rules at any byte: garbage instead of an
    A-ASSOCIATE-RQ, absurd lengths, a C-STORE cut off in the middle, an A-ABORT between fragments.

        with RawPeer(port) as peer:
            peer.associate("OURAE", [CT_IMAGE_STORAGE])
            command, *fragments = peer.store_pdus(dataset)
            peer.send(command, *fragments[:3], A_ABORT)
            assert peer.closed_by_listener()
    """

    def __init__(self, port: int, host: str = "127.0.0.1", *, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.max_pdu = 16382
        """The acceptor's maximum PDU length (from its A-ASSOCIATE-AC)."""
        self.context_ids: dict[str, int] = {}
        """Accepted abstract syntaxes and their presentation context IDs."""

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.sock.sendall(chunk)

    def close(self) -> None:
        self.sock.close()

    def read_pdu(self) -> tuple[int, bytes]:
        """The next PDU's type and body; ``(0, b"")`` when the listener closed the connection."""
        header = self._read(6)
        if len(header) < 6:
            return 0, b""
        kind, _, length = struct.unpack(">BBI", header)
        return kind, self._read(length)

    def closed_by_listener(self) -> bool:
        """Read (and drop) PDUs until the listener closes the connection; False if it does not
        within the socket's timeout."""
        try:
            while self.read_pdu()[0] != 0:
                pass
        except (TimeoutError, socket.timeout):
            return False
        except OSError:  # reset
            return True
        return True

    def associate(self, called: str, abstract_syntaxes: list[str], *, calling: str = "RAWPEER",
                  transfer_syntax: str = IMPLICIT_VR_LE) -> bool:
        """Send an A-ASSOCIATE-RQ and read the answer: True when accepted (A-ASSOCIATE-AC)."""
        self.send(associate_rq(called, calling, abstract_syntaxes, transfer_syntax))
        kind, body = self.read_pdu()
        if kind != 0x02:
            return False
        for item_type, item in _items(body[68:]):
            if item_type == 0x21 and item[2] == 0:  # presentation context accepted
                self.context_ids[abstract_syntaxes[(item[0] - 1) // 2]] = item[0]
            elif item_type == 0x50:
                for sub_type, sub in _items(item):
                    if sub_type == 0x51:
                        self.max_pdu = struct.unpack(">I", sub)[0] or self.max_pdu
        return True

    def store_pdus(self, dataset: Any, *, message_id: int = 1, pdu_size: int = 16382) -> list[bytes]:
        """A C-STORE-RQ of ``dataset`` (implicit VR little endian) as encoded P-DATA-TF PDUs:
        the command first, then the dataset's fragments, each at most ``pdu_size`` (or the
        acceptor's maximum, when smaller)."""
        from pynetdicom.dimse_messages import C_STORE_RQ
        from pynetdicom.dimse_primitives import C_STORE
        from pynetdicom.dsutils import encode

        request = C_STORE()
        request.MessageID = message_id
        request.AffectedSOPClassUID = dataset.SOPClassUID
        request.AffectedSOPInstanceUID = dataset.SOPInstanceUID
        request.Priority = 2
        request.DataSet = io.BytesIO(encode(dataset, True, True))
        message = C_STORE_RQ()
        message.primitive_to_message(request)
        context_id = self.context_ids[str(dataset.SOPClassUID)]
        return [p_data_tf(primitive.presentation_data_value_list)
                for primitive in message.encode_msg(context_id, min(self.max_pdu, pdu_size))]

    def echo_pdus(self, *, message_id: int = 1) -> list[bytes]:
        """A C-ECHO-RQ as encoded P-DATA-TF PDUs (needs Verification accepted)."""
        from pynetdicom.dimse_messages import C_ECHO_RQ
        from pynetdicom.dimse_primitives import C_ECHO

        request = C_ECHO()
        request.MessageID = message_id
        request.AffectedSOPClassUID = VERIFICATION
        message = C_ECHO_RQ()
        message.primitive_to_message(request)
        return [p_data_tf(primitive.presentation_data_value_list)
                for primitive in message.encode_msg(self.context_ids[VERIFICATION], self.max_pdu)]

    def read_status(self) -> int | None:
        """The Status of the next DIMSE response (None when the connection closed first)."""
        from pynetdicom.dsutils import decode

        command = b""
        while True:
            kind, body = self.read_pdu()
            if kind != 0x04:
                return None
            offset = 0
            while offset < len(body):
                length = struct.unpack(">I", body[offset:offset + 4])[0]
                control, data = body[offset + 5], body[offset + 6:offset + 4 + length]
                offset += 4 + length
                if control & 0x01:
                    command += data
                    if control & 0x02:
                        return int(decode(io.BytesIO(command), True, True).Status)

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(min(size - len(data), 65536))
            if not chunk:
                break
            data += chunk
        return data


def associate_rq(called: str, calling: str, abstract_syntaxes: list[str],
                 transfer_syntax: str = IMPLICIT_VR_LE, max_pdu: int = 16384) -> bytes:
    """An A-ASSOCIATE-RQ PDU (PS3.8 9.3.2): one presentation context per abstract syntax."""
    from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID

    body = struct.pack(">HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + bytes(32)
    body += _item(0x10, APPLICATION_CONTEXT.encode())
    for number, uid in enumerate(abstract_syntaxes):
        body += _item(0x20, bytes([2 * number + 1, 0, 0, 0]) + _item(0x30, uid.encode())
                      + _item(0x40, transfer_syntax.encode()))
    body += _item(0x50, _item(0x51, struct.pack(">I", max_pdu))
                  + _item(0x52, str(PYNETDICOM_IMPLEMENTATION_UID).encode()))
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def p_data_tf(values: list[Any]) -> bytes:
    """A P-DATA-TF PDU of ``[context ID, message control header + fragment]`` items."""
    body = b"".join(struct.pack(">IB", len(data) + 1, context_id) + bytes(data) for context_id, data in values)
    return struct.pack(">BBI", 0x04, 0, len(body)) + body


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


def _items(data: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while offset + 4 <= len(data):
        kind, _, length = struct.unpack(">BBH", data[offset:offset + 4])
        yield kind, data[offset + 4:offset + 4 + length]
        offset += 4 + length
