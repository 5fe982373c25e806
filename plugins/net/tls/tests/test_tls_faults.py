"""Peers that misbehave before or during the TLS handshake do not stop our dicoms:// listener."""

from __future__ import annotations

import socket

from gantry_dimse.settings import DimseSettings, Timeouts
from gantry_dimse.testing import VERIFICATION, RawPeer, associate_rq, listeners, wait_until
from gantry_tls.contexts import server_ssl_context
from gantry_tls.transport import open_transport

SETTINGS = DimseSettings(timeouts=Timeouts(connect=10, acse=1, dimse=10, network=5), max_associations=2)


def start(pki, begin):
    context = server_ssl_context({"ca_file": str(pki.ca), "cert_file": str(pki.server_cert),
                                  "key_file": str(pki.server_key)})
    return begin(None, "OURAE", ssl_context=context, settings=SETTINGS)


def echo_ok(port: int, client_settings) -> bool:
    with open_transport(f"dicoms://OURAE@127.0.0.1:{port}?retries=0&timeout=10", client_settings) as peer:
        return peer.echo().ok


def test_a_client_that_connects_and_says_nothing_does_not_stop_the_listener(pki, client_settings):
    with listeners() as begin:
        ours = start(pki, begin)
        with socket.create_connection(("127.0.0.1", ours.port)) as silent:
            silent.settimeout(30)
            # The handshake waits in that connection's own thread, not in the accept loop:
            assert echo_ok(ours.port, client_settings)
            assert silent.recv(100) == b""  # dropped after acse_timeout
        assert wait_until(lambda: not any(assoc.is_alive() for assoc in ours._associations), 10)
        assert echo_ok(ours.port, client_settings)


def test_plain_dicom_to_a_tls_listener_is_dropped(pki, client_settings):
    with listeners() as begin:
        ours = start(pki, begin)
        with RawPeer(ours.port, timeout=30) as plain:
            plain.send(associate_rq("OURAE", "PLAIN", [VERIFICATION]))
            assert plain.closed_by_listener()
        assert wait_until(lambda: not any(assoc.is_alive() for assoc in ours._associations), 10)
        assert echo_ok(ours.port, client_settings) and ours.accepted == 1


def test_silent_clients_filling_every_slot_are_dropped_and_the_slots_freed(pki, client_settings):
    with listeners() as begin:
        ours = start(pki, begin)  # max_associations = 2
        silent = [socket.create_connection(("127.0.0.1", ours.port)) for _ in range(2)]
        try:
            for sock in silent:
                sock.settimeout(30)
                assert sock.recv(100) == b""
        finally:
            for sock in silent:
                sock.close()
        assert wait_until(lambda: not any(assoc.is_alive() for assoc in ours._associations), 10)
        assert echo_ok(ours.port, client_settings)
