"""The kernel finds the dicom:// transport and C-ECHO through the entry point; the entry module is lean."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gantry_dimse.plugin as dimse_plugin
from gantry import ConfigError


def test_the_installed_kernel_offers_the_transport_and_c_echo(installed_kernel):
    transport = installed_kernel.active("transport", "dicom")
    assert transport.provider == "dimse" and transport.descriptor.operations == ("echo", "find", "retrieve", "store")
    assert installed_kernel.active("dimse-scu", "C-ECHO").provider == "dimse-echo"
    assert installed_kernel.active("dimse-scp", "C-ECHO").provider == "dimse-echo"
    settings = installed_kernel.settings("dimse")
    assert settings["calling_ae"] == "GANTRY" and settings["retries"] == 2 and settings["nodes"] == []


def test_open_transport_through_the_kernel_uses_the_plugin_settings(make_kernel, listener):
    ours = listener()
    kernel = make_kernel({"dimse": dimse_plugin}, config={"dimse": {
        "calling_ae": "KERNEL", "nodes": [{"name": "here", "ae": "OURAE", "host": "127.0.0.1", "port": ours.port}]}})
    with kernel.open_transport("dicom://here") as peer:
        assert peer.address.calling_ae == "KERNEL" and peer.echo().ok


def test_a_wrong_setting_is_a_config_error(make_kernel):
    with pytest.raises(ConfigError, match="dimse.retries"):
        make_kernel({"dimse": dimse_plugin}, config={"dimse": {"retries": "many"}})


def test_describing_the_plugin_imports_neither_pynetdicom_nor_tenacity():
    code = ("import sys, gantry_dimse.plugin as p; p.gantry_transports(); p.gantry_dimse_services(); "
            "p.gantry_settings(); print(sorted(m for m in ('pynetdicom', 'tenacity', 'pydicom') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
