"""Fixtures for the gantry-dicomweb client tests: real peers on 127.0.0.1.

- ``orthanc``: the session's Orthanc (``orthanc_server``, with its DICOMweb plugin), emptied first;
- ``study_files``: five files of one study (two series; the first instance has two frames);
- ``http_peer(script)``: a small real HTTP server answering from a script of (status, headers,
  body) in order (the last one repeats), recording every request it got;
- ``waits``: replaces the retry sleep, recording each wait, so retry tests run at once.

Every test starts with no breaker state.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

from gantry.testing.datasets import make_dataset, write_dataset

from gantry_dicomweb.testing import STUDY



@pytest.fixture(autouse=True)
def fresh_breakers() -> Iterator[None]:
    from gantry.resilience import BREAKERS

    BREAKERS.clear()
    yield
    BREAKERS.clear()


@pytest.fixture
def orthanc(orthanc_server: Any) -> Any:
    orthanc_server.clear()
    return orthanc_server


@pytest.fixture
def study_files(tmp_path: Path) -> list[str]:
    folder = tmp_path / "study"
    folder.mkdir()
    return [write_dataset(make_dataset(study=1, series=series, instance=instance, frames=frames, rows=8, columns=8),
                          folder / f"{instance:02d}.dcm") for series, instance, frames in STUDY]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    import gantry.resilience

    recorded: list[float] = []
    monkeypatch.setattr(gantry.resilience, "sleep", recorded.append)
    return recorded


@attrs.define
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class HttpPeer:
    server: ThreadingHTTPServer
    requests: list[Received]
    scheme: str = "http"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, prefix: str = "/dicom-web") -> str:
        return f"dicomweb+{self.scheme}://127.0.0.1:{self.port}{prefix}"


Script = list[tuple[int, dict[str, str], bytes]]


@pytest.fixture
def http_peer() -> Iterator[Callable[..., HttpPeer]]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(script: Script, *, ssl_context: Any = None) -> HttpPeer:
        requests: list[Received] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
                    status, headers, payload = script[min(len(requests), len(script)) - 1]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if ssl_context is not None:
            server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return HttpPeer(server=server, requests=requests, scheme="https" if ssl_context else "http")

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[str, str]:
    """``(certificate, key)`` PEM files for 127.0.0.1 (made with openssl)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed: apt-get install -y openssl")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, env={**os.environ})
    return cert, key
