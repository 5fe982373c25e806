"""gantry_dimse.direct_send leaves TLS associations to pynetdicom (an SSL connection must not be
written by one thread while another may read it); the C-STORE still goes through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt

from gantry.testing.datasets import make_dataset, write_dataset
from gantry_dimse import pynetdicom_setup  # noqa: F401 -- as Gantry runs pynetdicom
from gantry_dimse.direct_send import send_file
from gantry_dimse.testing import free_port
from gantry_tls.contexts import client_ssl_context, server_ssl_context

CT = "1.2.840.10008.5.1.4.1.1.2"


def test_a_tls_association_is_left_to_pynetdicom(pki: Any, client_settings: dict[str, Any], tmp_path: Path) -> None:
    received: list[str] = []
    scp = AE(ae_title="PEER")
    scp.add_supported_context(CT, ExplicitVRLittleEndian)
    port = free_port()
    handler = (evt.EVT_C_STORE, lambda event: received.append(str(event.request.AffectedSOPInstanceUID)) or 0)
    server = scp.start_server(("127.0.0.1", port), block=False, evt_handlers=[handler],
                              ssl_context=server_ssl_context(pki.server_settings()))
    dataset = make_dataset(rows=8, columns=8)
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = write_dataset(dataset, tmp_path / "ct.dcm")
    try:
        scu = AE(ae_title="SENDER")
        scu.add_requested_context(CT, ExplicitVRLittleEndian)
        assoc = scu.associate("127.0.0.1", port, ae_title="PEER",
                              tls_args=(client_ssl_context(client_settings), "127.0.0.1"))
        assert assoc.is_established
        try:
            assert send_file(assoc, str(path), CT, dataset.SOPInstanceUID, ExplicitVRLittleEndian) is None
            assert assoc.send_c_store(str(path)).Status == 0x0000  # what the caller then does
        finally:
            assoc.release()
    finally:
        server.shutdown()
    assert received == [dataset.SOPInstanceUID]
