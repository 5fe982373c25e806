"""C-ECHO both ways with a real Orthanc (the session's ``orthanc_server``, Orthanc 1.10)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gantry import TransportError
from gantry.cli import make_app
from gantry_dimse.transport import open_transport


def test_gantry_echo_reaches_orthanc(orthanc_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    url = f"{orthanc_server.dicom_url}?calling=GANTRY"
    result = CliRunner().invoke(make_app(), ["echo", url, "--count", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["error"] is None
    assert [echo["status"] for echo in report["echoes"]] == [0, 0]
    assert report["url"] == url


def test_the_transport_echoes_orthanc_and_reuses_the_association(orthanc_server):
    with open_transport(orthanc_server.dicom_url) as orthanc:
        results = [orthanc.echo() for _ in range(3)]
        opened = orthanc.pool.opened
    assert [(result.ok, result.status) for result in results] == [(True, 0)] * 3
    assert opened == 1


def test_any_called_ae_reaches_orthanc_and_nobody_is_a_transport_error(orthanc_server, free_port):
    # The session's Orthanc does not check the called AE (DicomCheckCalledAet false): any answers.
    with open_transport(orthanc_server.dicom_url.replace("ORTHANC@", "SOMEONE@")) as orthanc:
        assert orthanc.echo().status == 0
    # Nobody on a free port: a TransportError, not a status.
    with open_transport(f"dicom://ORTHANC@127.0.0.1:{free_port()}?retries=0&timeout=2") as nobody, \
            pytest.raises(TransportError, match="Connection refused"):
        nobody.echo()


def test_orthanc_echoes_our_listener(orthanc_server, listener):
    ours = listener("OURAE")
    orthanc_server.add_modality("gantry-echo", "OURAE", ours.port)
    try:
        assert orthanc_server.rest("POST", "/modalities/gantry-echo/echo", {}) == {}
        assert ours.accepted == 1
    finally:
        orthanc_server.rest("DELETE", "/modalities/gantry-echo")


def test_our_allow_list_rejects_orthanc_when_it_is_not_listed(orthanc_server, listener):
    ours = listener("OURAE", allow=("FRIEND",))
    orthanc_server.add_modality("gantry-picky", "OURAE", ours.port)
    try:
        with pytest.raises(RuntimeError, match="HTTP 500"):
            orthanc_server.rest("POST", "/modalities/gantry-picky/echo", {})
        assert ours.accepted == 0
    finally:
        orthanc_server.rest("DELETE", "/modalities/gantry-picky")
    friendly = listener("OURAE2", allow=("ORTHANC",))  # Orthanc calls as its DicomAet
    orthanc_server.add_modality("gantry-friendly", "OURAE2", friendly.port)
    try:
        orthanc_server.rest("POST", "/modalities/gantry-friendly/echo", {})
        assert friendly.accepted == 1
    finally:
        orthanc_server.rest("DELETE", "/modalities/gantry-friendly")


def test_an_association_orthanc_dropped_while_idle_is_replaced():
    # Orthanc closes associations idle for DicomScpTimeout seconds; our pool keeps them for
    # idle_timeout (30 s): the next operation must notice and open a fresh one, not fail.
    import time

    from gantry.testing.orthanc import OrthancServer

    with OrthancServer.start(dicomweb=False, extra={"DicomScpTimeout": 1}) as strict:
        with open_transport(strict.dicom_url) as orthanc:
            assert orthanc.echo().status == 0
            time.sleep(2.0)  # Orthanc drops the association after 1 s
            assert orthanc.echo().status == 0
            assert orthanc.pool.opened == 2
