"""gantry_dimse.direct_send: a file's C-STORE written straight to the socket, against pynetdicom's
SCP (its own decoding, so a malformed message would show) and our listener's direct path."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, evt

from gantry.testing.datasets import make_dataset, write_dataset
from gantry_dimse import pynetdicom_setup  # noqa: F401 -- as Gantry runs pynetdicom
from gantry_dimse.direct_send import send_file
from gantry_dimse.services import AssociationLost
from gantry_dimse.testing import free_port

CT = "1.2.840.10008.5.1.4.1.1.2"


class PeerScp:
    """pynetdicom's AE as the SCP, recording what it decoded and the P-DATA PDU sizes."""

    def __init__(self, max_pdu: int = 16384) -> None:
        self.received: list[bytes] = []
        self.pdu_lengths: list[int] = []
        self.answer: Any = 0x0000
        self.release = threading.Event()
        ae = AE(ae_title="PEER")
        ae.maximum_pdu_size = max_pdu
        ae.add_supported_context(CT, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        self.port = free_port()
        self.server = ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=[
            (evt.EVT_C_STORE, self._store), (evt.EVT_PDU_RECV, self._pdu)])

    def _pdu(self, event: Any) -> None:
        if event.pdu.__class__.__name__ == "P_DATA_TF":
            self.pdu_lengths.append(len(event.pdu.encode()))

    def _store(self, event: Any) -> Any:
        self.received.append(event.request.DataSet.getvalue())
        if self.answer == "abort":
            event.assoc.abort()
            return 0x0000
        if self.answer == "hold":
            self.release.wait(30)
            return 0x0000
        return self.answer


@pytest.fixture
def peer() -> Iterator[PeerScp]:
    scp = PeerScp()
    yield scp
    scp.release.set()
    scp.server.shutdown()


def ct_file(tmp_path: Path, syntax: str = ExplicitVRLittleEndian, pixels: int = 8) -> tuple[Path, Any]:
    dataset = make_dataset(rows=pixels, columns=pixels)
    dataset.file_meta.TransferSyntaxUID = syntax
    path = Path(write_dataset(dataset, tmp_path / f"ct-{pixels}.dcm"))
    return path, dataset


def associate(port: int, syntax: str = ExplicitVRLittleEndian, dimse_timeout: float = 30) -> Any:
    ae = AE(ae_title="SENDER")
    ae.dimse_timeout = dimse_timeout
    ae.add_requested_context(CT, syntax)
    assoc = ae.associate("127.0.0.1", port, ae_title="PEER")
    assert assoc.is_established
    return assoc


def dataset_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    group_length = int.from_bytes(data[140:144], "little")
    return data[144 + group_length:]


def test_a_file_arrives_whole_in_pdus_the_peer_accepts(peer: PeerScp, tmp_path: Path) -> None:
    path, dataset = ct_file(tmp_path, pixels=256)  # 128 kB: eight PDUs of the peer's 16 kB
    assoc = associate(peer.port)
    try:
        outcome = send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian)
        again = send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian)
    finally:
        assoc.release()
    assert outcome == again == (0x0000, "")
    assert peer.received == [dataset_bytes(path)] * 2  # as pynetdicom decoded it
    assert len(peer.pdu_lengths) >= 2 * 8 and max(peer.pdu_lengths) <= 16384 + 6


def test_the_peers_status_and_comment_come_back(peer: PeerScp, tmp_path: Path) -> None:
    from gantry_dimse.services import failure_status

    peer.answer = failure_status(0xA700, "no room")
    path, dataset = ct_file(tmp_path)
    assoc = associate(peer.port)
    try:
        assert send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian) == (0xA700, "no room")
    finally:
        assoc.release()


def test_what_it_is_not_sure_about_is_left_to_pynetdicom(peer: PeerScp, tmp_path: Path) -> None:
    path, dataset = ct_file(tmp_path)
    raw = tmp_path / "raw.dcm"
    raw.write_bytes(dataset_bytes(path))  # no preamble, no File Meta
    assoc = associate(peer.port)
    try:
        assert send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ImplicitVRLittleEndian) is None  # no such context
        assert send_file(assoc, str(path), "1.2.3.4", dataset.SOPInstanceUID, ExplicitVRLittleEndian) is None
        assert send_file(assoc, str(raw), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian) is None
    finally:
        assoc.release()
    assert peer.received == []


def test_an_abort_before_the_response_is_association_lost(peer: PeerScp, tmp_path: Path) -> None:
    peer.answer = "abort"
    path, dataset = ct_file(tmp_path)
    assoc = associate(peer.port)
    with pytest.raises(AssociationLost, match="ended before the C-STORE response"):
        send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian)
    assert not assoc.is_established


def test_no_response_within_the_dimse_timeout_aborts(peer: PeerScp, tmp_path: Path) -> None:
    peer.answer = "hold"
    path, dataset = ct_file(tmp_path)
    assoc = associate(peer.port, dimse_timeout=1)
    with pytest.raises(AssociationLost, match="DIMSE timeout"):
        send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian)
    assert assoc.is_aborted
    peer.release.set()


def test_a_file_that_shrinks_while_it_goes_out_aborts_the_association(peer: PeerScp, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from gantry_dimse import direct_send

    path, dataset = ct_file(tmp_path, pixels=256)
    real_fstat = os.fstat
    monkeypatch.setattr(direct_send.os, "fstat", lambda fd: os.stat_result(  # it says 1 kB more
        (*real_fstat(fd)[:6], real_fstat(fd).st_size + 1024, *real_fstat(fd)[7:])))
    assoc = associate(peer.port)
    with pytest.raises(AssociationLost, match=r"reading .*ct-256.dcm failed while sending: the file ended 1024 bytes early"):
        send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian)
    assert assoc.is_aborted and peer.received == []
