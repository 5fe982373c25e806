"""gantry_dimse.direct_store: C-STORE requests answered from the DUL thread, and what it leaves
to pynetdicom. A listener with a role that has both handlers; pynetdicom (or raw PDUs) sends."""

from __future__ import annotations

import struct
import threading
from io import BytesIO
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, dsutils, evt
from pynetdicom.dimse import _RSP_TO_MESSAGE
from pynetdicom.dimse_primitives import C_STORE

from gantry.testing.datasets import make_dataset
from gantry_dimse import commands
from gantry_dimse.direct_store import HANDLER_FAILED, StoreRequest, store_response_pdu
from gantry_dimse.services import ScpRole, failure_status

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


class Recorder:
    """Both handlers of the role, each recording what it got; ``answer`` decides the status."""

    def __init__(self) -> None:
        self.direct: list[StoreRequest] = []
        self.pynetdicom: list[Any] = []
        self.answer: Any = 0x0000

    def store_directly(self, request: StoreRequest) -> Any:
        self.direct.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def handle_store(self, event: Any) -> Any:
        self.pynetdicom.append(event.request)
        return 0x0000

    def role(self) -> ScpRole:
        return ScpRole(service="C-STORE", abstract_syntaxes=(CT, MR), transfer_syntaxes=(ExplicitVRLittleEndian,),
                       handlers=((evt.EVT_C_STORE, self.handle_store),), direct_store=self.store_directly)


@pytest.fixture
def recorder(listener: Any) -> tuple[Recorder, Any]:
    recorder = Recorder()
    return recorder, listener(roles=[recorder.role()])


def ct_dataset() -> Dataset:
    ds = make_dataset(rows=8, columns=8)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def associate(port: int, max_pdu: int = 16384) -> Any:
    ae = AE(ae_title="SENDER")
    ae.maximum_pdu_size = max_pdu
    ae.add_requested_context(CT, ExplicitVRLittleEndian)
    ae.add_requested_context(MR, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port, ae_title="OURAE")
    assert assoc.is_established
    return assoc


def test_a_store_takes_the_direct_path_with_its_dataset_whole(recorder: tuple[Recorder, Any]) -> None:
    handlers, ours = recorder
    dataset = ct_dataset()
    dataset.PixelData = bytes(range(256)) * 2400  # 614 kB: three PDUs of our 256 KiB
    assoc = associate(ours.port)
    try:
        status = assoc.send_c_store(dataset)
    finally:
        assoc.release()
    assert status.Status == 0x0000
    assert handlers.pynetdicom == [] and len(handlers.direct) == 1
    request = handlers.direct[0]
    assert len(request.fragments) == 3
    assert (request.sop_class_uid, request.sop_instance_uid) == (CT, dataset.SOPInstanceUID)
    assert request.transfer_syntax == ExplicitVRLittleEndian and request.message_id == 1
    assert b"".join(request.fragments) == dsutils.encode(dataset, False, True)  # what pynetdicom sent


@pytest.mark.parametrize("answer, status, comment", [
    (0xB000, 0xB000, None),
    (failure_status(0xA700, "the disk is full"), 0xA700, "the disk is full"),
    (RuntimeError("boom"), HANDLER_FAILED, None),
])
def test_the_handlers_status_reaches_the_sender(recorder: tuple[Recorder, Any], answer: Any, status: int,
                                                comment: str | None) -> None:
    handlers, ours = recorder
    handlers.answer = answer
    assoc = associate(ours.port)
    try:
        response = assoc.send_c_store(ct_dataset())
        assert assoc.send_c_store(ct_dataset()).Status == status  # the association goes on
    finally:
        assoc.release()
    assert response.Status == status
    assert response.get("ErrorComment") == comment


def test_a_response_larger_than_the_peers_pdus_goes_through_pynetdicom(recorder: tuple[Recorder, Any]) -> None:
    handlers, ours = recorder
    handlers.answer = failure_status(0xA700, "x" * 64)
    assoc = associate(ours.port, max_pdu=128)  # pynetdicom's smallest is well under our response
    try:
        response = assoc.send_c_store(ct_dataset())
    finally:
        assoc.release()
    assert response.Status == 0xA700 and response.ErrorComment == "x" * 64
    assert len(handlers.direct) == 1


def test_a_store_whose_class_is_not_its_contexts_is_left_to_pynetdicom(recorder: tuple[Recorder, Any]) -> None:
    handlers, ours = recorder
    assoc = associate(ours.port)
    try:
        mr_context = next(cx for cx in assoc.accepted_contexts if cx.abstract_syntax == MR)
        request = C_STORE()
        request.MessageID, request.AffectedSOPClassUID = 7, CT  # a CT on the MR context
        request.AffectedSOPInstanceUID, request.Priority = "1.2.3.4", 2
        request.DataSet = BytesIO(b"\x08\x00\x18\x00\x55\x49\x08\x00" + b"1.2.3.4\x00")
        assoc._reactor_checkpoint.clear()
        while not assoc._is_paused:
            threading.Event().wait(0.001)
        assoc.dimse.send_msg(request, mr_context.context_id)
        _, response = assoc.dimse.get_msg(block=True)
        assoc._reactor_checkpoint.set()
    finally:
        assoc.release()
    assert response is not None and response.Status == 0x0000
    assert handlers.direct == [] and len(handlers.pynetdicom) == 1


def test_the_response_bytes_are_pynetdicoms() -> None:
    request = StoreRequest(assoc=None, context_id=3, transfer_syntax=ExplicitVRLittleEndian, sop_class_uid=CT,
                           sop_instance_uid="1.2.826.0.1.3680043.10.1432.7", message_id=12, fragments=())
    for status, comment in ((0x0000, ""), (0xA700, "out of resources, odd")):
        primitive = C_STORE()
        primitive.MessageIDBeingRespondedTo = 12
        primitive.AffectedSOPClassUID, primitive.AffectedSOPInstanceUID = CT, request.sop_instance_uid
        primitive.Status = status
        if comment:
            primitive.ErrorComment = comment
        message = _RSP_TO_MESSAGE[C_STORE]()
        message.primitive_to_message(primitive)
        (pdata,) = list(message.encode_msg(3, 0))
        theirs = pdata.presentation_data_value_list[0][1]
        pdu = store_response_pdu(request, status, comment)
        assert pdu[:2] == b"\x04\x00" and struct.unpack(">I", pdu[2:6])[0] == len(pdu) - 6
        assert pdu[10] == 3 and pdu[11:] == theirs  # context 3; control header and command set


def test_a_command_inside_a_dataset_aborts_the_association(recorder: tuple[Recorder, Any], wait_for: Any) -> None:
    """Raw PDUs on a pynetdicom association: a C-STORE-RQ command, then a command fragment
    where its dataset should go on."""
    handlers, ours = recorder
    assoc = associate(ours.port)
    context_id = next(cx.context_id for cx in assoc.accepted_contexts if cx.abstract_syntax == CT)
    command = commands.command_set_bytes([(0x0002, "UI", CT), (0x0100, "US", 0x0001), (0x0110, "US", 5),
                                          (0x0700, "US", 2), (0x0800, "US", 0x0000), (0x1000, "UI", "1.2.3")])

    def pdata(header: int, data: bytes) -> bytes:
        item = struct.pack(">IBB", len(data) + 2, context_id, header) + data
        return struct.pack(">BBI", 0x04, 0, len(item)) + item

    try:
        assoc.dul.socket.send(pdata(0x03, command) + pdata(0x00, b"\x08\x00\x16\x00") + pdata(0x03, command))
        assert wait_for(lambda: not assoc.is_established, 10)
    finally:
        if assoc.is_established:
            assoc.abort()
    assert assoc.is_aborted
    assert handlers.direct == [] and handlers.pynetdicom == []


def test_a_message_after_a_store_in_the_same_pdu_is_read_too(recorder: tuple[Recorder, Any]) -> None:
    """Raw PDUs: [store 1's command, its dataset, the first half of store 2's command], then
    [the rest of that command, store 2's dataset]. Store 1 goes the direct way; store 2, whose
    command comes in two fragments, is pynetdicom's. Both are answered."""
    handlers, ours = recorder
    assoc = associate(ours.port)
    context_id = next(cx.context_id for cx in assoc.accepted_contexts if cx.abstract_syntax == CT)

    def command(message_id: int, sop_uid: str) -> bytes:
        return commands.command_set_bytes([(0x0002, "UI", CT), (0x0100, "US", 0x0001), (0x0110, "US", message_id),
                                           (0x0700, "US", 2), (0x0800, "US", 0x0000), (0x1000, "UI", sop_uid)])

    def pdv(header: int, data: bytes) -> bytes:
        return struct.pack(">IBB", len(data) + 2, context_id, header) + data

    def pdu(*items: bytes) -> bytes:
        body = b"".join(items)
        return struct.pack(">BBI", 0x04, 0, len(body)) + body

    second = command(6, "1.2.6")
    dataset = b"\x08\x00\x18\x00\x06\x00\x00\x001.2.6\x00"
    try:
        assoc._reactor_checkpoint.clear()  # the responses are read below, not by the reactor
        while not assoc._is_paused:
            threading.Event().wait(0.001)
        assoc.dul.socket.send(pdu(pdv(0x03, command(5, "1.2.5")), pdv(0x02, dataset), pdv(0x01, second[:20])))
        assoc.dul.socket.send(pdu(pdv(0x03, second[20:]), pdv(0x02, dataset)))
        answered = sorted(assoc.dimse.get_msg(block=True)[1].MessageIDBeingRespondedTo for _ in range(2))
        assoc._reactor_checkpoint.set()
    finally:
        assoc.release()
    assert answered == [5, 6]
    assert [request.message_id for request in handlers.direct] == [5]
    assert [int(request.MessageID) for request in handlers.pynetdicom] == [6]
    assert b"".join(handlers.direct[0].fragments) == dataset


def test_a_handler_slower_than_the_network_timeout_is_not_a_silent_peer(listener: Any) -> None:
    from gantry_dimse.settings import DimseSettings

    handlers = Recorder()
    slow = handlers.store_directly

    def store_slowly(request: StoreRequest) -> Any:
        threading.Event().wait(2.5)  # a slow disk: longer than the 1 s network timeout
        return slow(request)

    handlers.store_directly = store_slowly  # type: ignore[method-assign]
    ours = listener(roles=[handlers.role()], settings=DimseSettings.from_mapping({"network_timeout": 1}))
    assoc = associate(ours.port)
    try:
        for _ in range(2):  # the second finds the association still there
            assert assoc.send_c_store(ct_dataset()).Status == 0x0000
    finally:
        if assoc.is_established:
            assoc.release()
    assert len(handlers.direct) == 2 and not assoc.is_aborted
