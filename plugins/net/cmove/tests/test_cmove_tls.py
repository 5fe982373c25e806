"""C-MOVE to a destination that speaks TLS: our SCP opens the sub-associations with the site's
``[tls]`` client settings (mutual TLS here), to our own TLS listener and to dcmtk's storescp +tls;
a destination that cannot prove itself gets nothing, and TLS never falls back to plain TCP."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest

from gantry import TransportError
from gantry.testing.datasets import make_dataset
from gantry.testing.fixtures import kernel_with
from gantry.testing.index import IndexedSite, indexed_site

from gantry_cmove.settings import MoveSettings
from gantry_dimse.testing import dcmtk, dcmtk_server, free_port, listeners
from gantry_tls.contexts import server_ssl_context
from gantry_tls.testing import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def receiving(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``start(ssl_context=None, **options)``: our listener as DEST, storing into its own index."""
    database = f"sqlite:///{tmp_path / 'dest.db'}"
    kernel = kernel_with(config={"storage": {"database": database, "store": str(tmp_path / "dest-store")}},
                         discover=True)

    def received() -> set[str]:
        backend = kernel.open_storage(database)
        try:
            return {row["SOPInstanceUID"] for row in backend.query("instance")}
        finally:
            backend.close()

    with listeners() as begin:
        def start(**options: Any) -> Any:
            listener = begin(kernel, "DEST", **options)
            listener.received = received
            return listener

        yield start


def site_moving_to(tmp_path: Path, destination: dict[str, Any], tls: dict[str, Any]) -> IndexedSite:
    return indexed_site(tmp_path / "site", [make_dataset(study=6, instance=n, rows=8, columns=8) for n in (1, 2, 3)],
                        config={"cmove": {"destinations": [destination]}, "tls": tls})


def move(site: IndexedSite, port: int) -> list[Any]:
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}") as peer:
        return list(peer.retrieve("study", {"StudyInstanceUID": site.study_uids()[0]}, destination="DEST"))


def test_destinations_say_tls_with_a_flag_or_a_dicoms_url():
    settings = MoveSettings.from_mapping({"destinations": [
        {"url": "dicoms://SECURE@pacs.example:2762"}, {"ae": "FLAG", "host": "h", "port": 1, "tls": True},
        {"url": "dicom://PLAIN@h:104"}, {"ae": "OLD", "host": "h", "port": 104}]})
    assert [(d.ae, d.host, d.port, d.tls) for d in settings.destinations] == [
        ("SECURE", "pacs.example", 2762, True), ("FLAG", "h", 1, True),
        ("PLAIN", "h", 104, False), ("OLD", "h", 104, False)]


def test_a_move_to_a_tls_destination_arrives_over_mutual_tls(tmp_path, pki, receiving, our_listener):
    destination = receiving(ssl_context=server_ssl_context(pki.server_settings(require_client_cert=True)))
    site = site_moving_to(tmp_path, {"url": f"dicoms://DEST@127.0.0.1:{destination.port}"}, pki.client_settings())
    ours = our_listener(site.kernel)
    *_pending, final = move(site, ours.port)
    assert (final.ok, final.completed, final.failed) == (True, 3, 0)
    assert destination.received() == {row["SOPInstanceUID"] for row in site.query("instance")}


def test_a_destination_with_an_untrusted_certificate_gets_nothing(tmp_path, pki, receiving, our_listener):
    stranger = {"ca_file": str(pki.ca), "cert_file": str(pki.stranger_cert), "key_file": str(pki.stranger_key)}
    destination = receiving(ssl_context=server_ssl_context(stranger))
    site = site_moving_to(tmp_path, {"ae": "DEST", "host": "127.0.0.1", "port": destination.port, "tls": True},
                          pki.client_settings())
    ours = our_listener(site.kernel)
    with pytest.raises(TransportError, match="0xA801"):  # pynetdicom: the destination could not be associated
        move(site, ours.port)
    assert destination.received() == set()


def test_tls_never_falls_back_to_plain_tcp(tmp_path, pki, receiving, our_listener):
    destination = receiving()  # plain DICOM
    site = site_moving_to(tmp_path, {"ae": "DEST", "host": "127.0.0.1", "port": destination.port, "tls": True},
                          pki.client_settings())
    ours = our_listener(site.kernel)
    with pytest.raises(TransportError, match="0xA801"):
        move(site, ours.port)
    assert destination.received() == set()


def test_a_move_to_dcmtk_storescp_over_tls(tmp_path, pki, our_listener):
    usage = subprocess.run([dcmtk("storescp"), "--help"], capture_output=True, text=True).stdout
    if "--enable-tls" not in usage:
        pytest.skip("this dcmtk's storescp was built without OpenSSL")
    folder = tmp_path / "dcmtk"
    folder.mkdir()
    port = free_port()
    # +tls KEY CERT: its identity; +cf CA: whom it trusts; it requires a client certificate by default.
    with dcmtk_server("storescp", ["-aet", "DEST", "+tls", str(pki.server_key), str(pki.server_cert),
                                   "+cf", str(pki.ca), "-od", str(folder), str(port)], port, tmp_path / "dest.log"):
        site = site_moving_to(tmp_path, {"url": f"dicoms://DEST@127.0.0.1:{port}"}, pki.client_settings())
        ours = our_listener(site.kernel)
        *_pending, final = move(site, ours.port)
        assert (final.ok, final.completed, final.failed) == (True, 3, 0)
        received = {str(pydicom.dcmread(path).SOPInstanceUID) for path in folder.iterdir()}
        assert received == {row["SOPInstanceUID"] for row in site.query("instance")}


def test_unreadable_tls_settings_refuse_the_move(tmp_path, pki, receiving, our_listener):
    destination = receiving(ssl_context=server_ssl_context(pki.server_settings()))
    site = site_moving_to(tmp_path, {"url": f"dicoms://DEST@127.0.0.1:{destination.port}"},
                          {"ca_file": str(tmp_path / "no-such-ca.pem")})
    ours = our_listener(site.kernel)
    with pytest.raises(TransportError, match="0xA801"):
        move(site, ours.port)
    assert destination.received() == set()
