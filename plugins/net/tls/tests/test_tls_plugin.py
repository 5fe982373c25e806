"""The kernel finds dicoms:// through the entry point; the dimse pieces gantry-tls relies on."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gantry_dimse.plugin as dimse_plugin
import gantry_tls.plugin as tls_plugin
from gantry import ConfigError, TransportError
from gantry_dimse.transport import open_transport as open_dimse_transport
from gantry_dimse.urls import parse_dicom_url
from gantry_tls.contexts import server_ssl_context


def test_the_installed_kernel_offers_dicoms(installed_kernel):
    transport = installed_kernel.active("transport", "dicoms")
    assert transport.provider == "dimse-tls" and transport.descriptor.operations == ("echo", "find", "retrieve", "store")
    settings = installed_kernel.settings("tls")
    assert settings["verify"] is True and settings["minimum_version"] == "1.2"


def test_open_transport_through_the_kernel_uses_both_sections(make_kernel, tls_listener, client_settings):
    ours = tls_listener(require_client_cert=True)
    kernel = make_kernel({"dimse": dimse_plugin, "tls": tls_plugin}, config={
        "dimse": {"calling_ae": "KERNEL", "nodes": [{"name": "here", "url": f"dicoms://OURAE@127.0.0.1:{ours.port}"}]},
        "tls": client_settings})
    with kernel.open_transport("dicoms://here") as peer:
        assert peer.address.secure and peer.address.calling_ae == "KERNEL"
        assert peer.echo().ok


def test_a_tls_version_older_than_1_2_is_a_config_error(make_kernel):
    with pytest.raises(ConfigError, match="tls.minimum_version"):
        make_kernel({"tls": tls_plugin}, config={"tls": {"minimum_version": "1.1"}})


def test_dicoms_urls_are_secure_and_dicom_urls_are_not():
    assert parse_dicom_url("dicoms://PACS@pacs.example:2762").secure
    assert parse_dicom_url("dicoms://PACS@pacs.example").url == "dicoms://PACS@pacs.example:104?calling=GANTRY"
    assert not parse_dicom_url("dicom://PACS@pacs.example").secure
    node = {"name": "pacs", "url": "dicom://PACS@pacs.example"}
    assert parse_dicom_url("dicoms://pacs", {"nodes": [node]}).secure  # TLS asked for a plain node


def test_the_dimse_transport_never_runs_dicoms_in_the_clear():
    with pytest.raises(TransportError, match="needs TLS settings"):
        open_dimse_transport("dicoms://PACS@127.0.0.1:2762")


def test_a_missing_certificate_file_names_the_settings(tmp_path):
    with pytest.raises(TransportError, match="tls.cert_file"):
        server_ssl_context({"cert_file": str(tmp_path / "missing.pem")})
    with pytest.raises(TransportError, match="tls.cert_file"):
        server_ssl_context({})


def test_describing_the_plugin_imports_neither_ssl_users_nor_pynetdicom():
    code = ("import sys, gantry_tls.plugin as p; p.gantry_transports(); p.gantry_settings(); "
            "print(sorted(m for m in ('pynetdicom', 'gantry_dimse', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
