"""The HTTP envelope: bearer tokens, CORS, the access log without patient data, and ``gantry serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gantry.testing.datasets import PLANTED_PHI


def test_bearer_tokens(serve: Any, instances: Any, stow_raw: Any) -> None:
    served = serve(tokens=["first-token", "second-token"])
    anonymous = httpx.get(f"{served.url}/studies")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="gantry"'
    assert anonymous.json()["error"]["status"] == 401
    wrong = httpx.get(f"{served.url}/studies", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["www-authenticate"]
    refused = stow_raw(served, [instances["native"].data])
    assert refused.status_code == 401 and served.query("instance") == []
    basic = httpx.get(f"{served.url}/studies", headers={"Authorization": "Basic Zmlyc3QtdG9rZW4="})
    assert basic.status_code == 401
    assert stow_raw(served, [instances["native"].data], Authorization="Bearer second-token").status_code == 200
    client = served.client(headers={"Authorization": "Bearer first-token"})
    (study,) = client.search_for_studies()
    assert study["0020000D"]["Value"] == [instances["native"].study_uid]
    root = served.url.removesuffix("/dicom-web")
    wado = httpx.get(f"{root}/wado", params={"requestType": "WADO", "studyUID": "1", "seriesUID": "2",
                                            "objectUID": "3", "contentType": "application/dicom"})
    assert wado.status_code == 401  # WADO-URI too


def test_cors_for_configured_origins_only(serve: Any) -> None:
    served = serve(cors_origins=["https://viewer.example.org"], tokens=["t"])
    preflight = httpx.options(f"{served.url}/studies", headers={
        "Origin": "https://viewer.example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200  # answered before authentication
    assert preflight.headers["access-control-allow-origin"] == "https://viewer.example.org"
    simple = httpx.get(f"{served.url}/studies", headers={"Origin": "https://viewer.example.org",
                                                          "Authorization": "Bearer t"})
    assert simple.status_code == 204
    assert simple.headers["access-control-allow-origin"] == "https://viewer.example.org"
    assert "warning" in simple.headers["access-control-expose-headers"].lower()
    stranger = httpx.get(f"{served.url}/studies", headers={"Origin": "https://evil.example",
                                                            "Authorization": "Bearer t"})
    assert "access-control-allow-origin" not in stranger.headers
    plain = serve()
    assert "access-control-allow-origin" not in httpx.get(
        f"{plain.url}/studies", headers={"Origin": "https://viewer.example.org"}).headers


def test_access_log_has_the_facts_and_no_patient_data(serve: Any, instances: Any, stow_raw: Any,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    served = serve()
    assert stow_raw(served, [instances["native"].data]).status_code == 200
    capsys.readouterr()
    response = httpx.get(f"{served.url}/studies", params={
        "PatientName": PLANTED_PHI["PatientName"], "PatientID": PLANTED_PHI["PatientID"],
        "PatientBirthDate": PLANTED_PHI["PatientBirthDate"], "limit": "5", "includefield": "StudyDescription"})
    assert response.status_code == 200
    root = served.url.removesuffix("/dicom-web")
    httpx.get(f"{root}/wado", params={"requestType": "WADO", "studyUID": "1", "seriesUID": "2", "objectUID": "3",
                                      "contentType": "application/dicom"})
    logged, access = "", []
    deadline = time.monotonic() + 10  # the event is written just after the last byte is sent
    while len(access) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        logged += capsys.readouterr().err
        events = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
        access = [event for event in events if event.get("event") == "http.access" and event["method"] == "GET"]
    assert len(access) == 2
    qido = access[0]
    assert qido["method"] == "GET" and qido["path"] == "/dicom-web/studies" and qido["status"] == 200
    assert qido["bytes"] == len(response.content) and qido["duration_ms"] >= 0
    assert "limit=5" in qido["query"] and "includefield=StudyDescription" in qido["query"]
    assert "PatientName=<redacted>" in qido["query"]
    assert access[1]["status"] == 404 and "studyUID=<redacted>" in access[1]["query"]
    for value in PLANTED_PHI.values():
        assert value not in logged
        assert value.replace("^", "%5E") not in logged


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gantry_serve_command(tmp_path: Path, instances: Any) -> None:
    from gantry_dicomweb_server.testing import multipart_body

    port = _free_port()
    database = f"sqlite:///{tmp_path / 'served.db'}"
    store = tmp_path / "served-store"
    config = tmp_path / "gantry.toml"
    config.write_text('[dicomweb-server]\nmax_results = 7\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "gantry", "--config", str(config), "serve", "--db", database, "--store", str(store),
         "--host", "127.0.0.1", "--port", str(port), "--public-root", "https://proxy.example/dicom-web"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = f"http://127.0.0.1:{port}/dicom-web"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/studies", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1].decode()
                assert time.monotonic() < deadline, "gantry serve did not start"
                time.sleep(0.2)
        body, content_type = multipart_body([instances["rle"].data])
        stored = httpx.post(f"{url}/studies", content=body, headers={"Content-Type": content_type})
        assert stored.status_code == 200
        assert stored.json()["00081190"]["Value"] == [f"https://proxy.example/dicom-web/studies/{instances['rle'].study_uid}"]
        (study,) = httpx.get(f"{url}/studies").json()
        assert study["0020000D"]["Value"] == [instances["rle"].study_uid]
        assert list(store.rglob("*.dcm"))
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert b"serving DICOMweb at http://127.0.0.1:" in err
