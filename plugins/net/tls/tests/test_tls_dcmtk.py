"""dicoms:// against dcmtk's TLS (Debian's dcmtk is built with OpenSSL): echoscu +tls calling our
listener, and our echo() calling storescp +tls. Both sides use mutual TLS."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from gantry_dimse.testing import DCMTK_ENV, dcmtk, dcmtk_server, free_port
from gantry_tls.transport import open_transport


def dcmtk_has_tls(program: str) -> bool:
    usage = subprocess.run([dcmtk(program), "--help"], capture_output=True, text=True).stdout
    return "--enable-tls" in usage


@pytest.fixture
def tls_storescp(pki, tmp_path) -> Iterator[Any]:
    if not dcmtk_has_tls("storescp"):
        pytest.skip("this dcmtk's storescp --help lists no --enable-tls (built without OpenSSL)")
    port = free_port()
    # +tls KEY CERT: our server identity; +cf CA: whom to trust; -rc (default): require a client cert.
    with dcmtk_server("storescp", ["-aet", "DCMTK", "+tls", str(pki.server_key), str(pki.server_cert),
                                   "+cf", str(pki.ca), "-od", str(tmp_path), str(port)], port, tmp_path / "storescp.log"):
        yield port


def test_dcmtk_echoscu_over_tls_reaches_our_listener(tls_listener, pki):
    if not dcmtk_has_tls("echoscu"):
        pytest.skip("this dcmtk's echoscu --help lists no --enable-tls (built without OpenSSL)")
    ours = tls_listener(require_client_cert=True)
    finished = subprocess.run([dcmtk("echoscu"), "-aet", "DCMTKSCU", "-aec", "OURAE",
                               "+tls", str(pki.client_key), str(pki.client_cert), "+cf", str(pki.ca),
                               "127.0.0.1", str(ours.port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV, stdin=subprocess.DEVNULL)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert ours.accepted == 1


def test_dcmtk_echoscu_without_a_certificate_is_refused(tls_listener, pki):
    if not dcmtk_has_tls("echoscu"):
        pytest.skip("this dcmtk's echoscu --help lists no --enable-tls (built without OpenSSL)")
    ours = tls_listener(require_client_cert=True)
    finished = subprocess.run([dcmtk("echoscu"), "-aec", "OURAE", "+tla", "+cf", str(pki.ca),
                               "127.0.0.1", str(ours.port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV, stdin=subprocess.DEVNULL)
    assert finished.returncode != 0
    assert ours.accepted == 0


def test_our_echo_over_tls_reaches_dcmtk_storescp(tls_storescp, client_settings):
    with open_transport(f"dicoms://DCMTK@127.0.0.1:{tls_storescp}", client_settings) as peer:
        assert peer.echo().ok
