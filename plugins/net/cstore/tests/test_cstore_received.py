"""The SCP's hand-written File Meta equals pynetdicom's ``Event.encoded_dataset()`` byte for byte."""

from __future__ import annotations

from typing import Any

from pynetdicom import AE, evt
from pynetdicom.presentation import StoragePresentationContexts

from gantry_cstore.received import received_part10


def test_received_bytes_equal_pynetdicoms_encoding(ct_folder: Any, installed_kernel: Any, free_port: Any) -> None:
    pairs: list[tuple[bytes, bytes]] = []

    def handle_store(event: Any) -> int:
        pairs.append((received_part10(event), event.encoded_dataset()))
        return 0x0000

    ae = AE(ae_title="RAWSCP")
    syntaxes = ["1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
    for context in StoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, syntaxes)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, handle_store)])
    try:
        with installed_kernel.open_transport(f"dicom://RAWSCP@127.0.0.1:{port}") as peer:
            results = list(peer.store([str(ct_folder.path)]))
    finally:
        server.shutdown()
        ae.shutdown()
    assert [result.ok for result in results] == [True] * len(ct_folder.files)
    assert len(pairs) == len(ct_folder.files)
    assert {result.transfer_syntax_uid for result in results} == set(ct_folder.files.values())  # RLE too
    for ours, theirs in pairs:
        assert ours == theirs
