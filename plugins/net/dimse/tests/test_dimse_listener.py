"""Our Listener answering dcmtk's echoscu."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from gantry import TransportError
from gantry_dimse.listener import Listener


def echoscu(port: int, calling: str = "X", called: str = "OURAE") -> subprocess.CompletedProcess[str]:
    program = shutil.which("echoscu")
    if program is None:
        pytest.fail("dcmtk is not installed: apt-get install -y dcmtk")
    return subprocess.run([program, "-aet", calling, "-aec", called, "127.0.0.1", str(port)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "TCP_NODELAY": "1"})


def test_echoscu_gets_an_answer(listener):
    ours = listener()
    finished = echoscu(ours.port)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert ours.accepted == 1 and ours.services == ("C-ECHO",)


def test_an_allow_list_admits_listed_callers_and_rejects_the_rest(listener):
    ours = listener(allow=("X", "FRIEND"))
    assert echoscu(ours.port, calling="X").returncode == 0
    refused = echoscu(ours.port, calling="STRANGER")
    assert refused.returncode != 0
    assert "Rejected" in refused.stdout + refused.stderr
    assert ours.accepted == 1


def test_the_roles_come_from_the_kernels_active_scp_providers(make_kernel):
    import gantry_dimse.plugin as dimse_plugin

    kernel = make_kernel({"dimse": dimse_plugin})
    with Listener(kernel, "OURAE", "127.0.0.1", 0) as ours:
        assert ours.services == ("C-ECHO",)
        assert echoscu(ours.port).returncode == 0


def test_a_port_in_use_is_a_transport_error(listener):
    ours = listener()
    with pytest.raises(TransportError, match=f"cannot listen on 127.0.0.1:{ours.port}"):
        Listener(None, "OTHER", "127.0.0.1", ours.port).start()


def test_a_bad_ae_title_is_a_transport_error():
    with pytest.raises(TransportError, match="17 characters"):
        Listener(None, "A" * 17, "127.0.0.1", 0)
