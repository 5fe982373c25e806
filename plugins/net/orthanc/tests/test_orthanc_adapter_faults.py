"""Retries, Retry-After, the circuit breaker and reconnection, against a real local HTTP server
that misbehaves on purpose (and, for keep-alive, a real Orthanc that closes idle connections)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from gantry import TransportError
from gantry.testing.network import free_port

SYSTEM = json.dumps({"Name": "scripted", "Version": "1.10.1", "ApiVersion": 16, "DicomAet": "FAKE"}).encode()


class ScriptedServer:
    """An HTTP/1.1 server on 127.0.0.1 answering each request by the next step of ``script``:
    ``"ok"`` (200 /system, kept alive), ``"503:N"`` (503 with Retry-After N), ``"500"``,
    ``"drop"`` (close the connection without answering), ``"hang"`` (say nothing for 3 s). After the script: ``"ok"``."""

    def __init__(self, script: list[str], routes: dict[str, list[tuple[str, bytes]]] | None = None) -> None:
        self.script = list(script)
        self.routes = {key: list(steps) for key, steps in (routes or {}).items()}
        """``"METHOD /path"`` -> answers in turn: ``("ok", body)`` or ``("cut", body)`` (the
        headers promise the whole body, half of it comes, then the connection closes)."""
        self.requests: list[str] = []
        self.headers: list[str] = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    @property
    def url(self) -> str:
        return f"orthanc+http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    line = head.split(b"\r\n", 1)[0].decode()
                    with self._lock:
                        self.requests.append(line)
                        self.headers.append(head.decode(errors="replace"))
                        step = self.script.pop(0) if self.script else "ok"
                    route = " ".join(line.split(" ")[:2])
                    if self.routes.get(route):
                        length = int(next((h.split(b":", 1)[1] for h in head.split(b"\r\n")
                                           if h.lower().startswith(b"content-length:")), b"0"))
                        while len(buffer) < length:
                            buffer += conn.recv(65536)
                        buffer = buffer[length:]
                        kind, body = self.routes[route].pop(0)
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                                     + str(len(body)).encode() + b"\r\n\r\n" + (body[: len(body) // 2] if kind == "cut" else body))
                        if kind == "cut":
                            return
                        continue
                    if step == "drop":
                        return
                    if step == "hang":
                        self._stop.wait(3)
                        return
                    if step.startswith("503"):
                        body = b'{"HttpError":"Service Unavailable","Message":"busy"}'
                        conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + step[4:].encode()
                                     + b"\r\nContent-Type: application/json\r\nContent-Length: "
                                     + str(len(body)).encode() + b"\r\n\r\n" + body)
                    elif step == "500":
                        body = b'{"HttpError":"Internal Server Error","Message":"Internal error"}'
                        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                    else:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nKeep-Alive: timeout=60"
                                     b"\r\nContent-Length: " + str(len(SYSTEM)).encode() + b"\r\n\r\n" + SYSTEM)

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def scripted() -> Iterator:
    servers: list[ScriptedServer] = []

    def start(*script: str, routes: dict[str, list[tuple[str, bytes]]] | None = None) -> ScriptedServer:
        server = ScriptedServer(list(script), routes)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    import gantry.resilience

    recorded: list[float] = []
    monkeypatch.setattr(gantry.resilience, "sleep", recorded.append)
    return recorded


def _kernel(make_kernel, **settings):
    return make_kernel(config={"orthanc": settings}, discover=True)


def test_503_with_retry_after_is_retried_after_the_wait_asked(make_kernel, scripted, waits):
    server = scripted("503:3", "503:2")
    with _kernel(make_kernel, retry_backoff=0.01).open_transport(server.url) as peer:
        result = peer.echo()
    assert result.ok and result.version == "1.10.1"
    assert server.requests == ["GET /system HTTP/1.1"] * 3
    assert len(waits) == 2 and waits[0] >= 3 and waits[1] >= 2


def test_retry_after_is_capped_and_5xx_gives_up_with_orthancs_message(make_kernel, scripted, waits):
    server = scripted("503:3600", "500", "500", "500")
    kernel = _kernel(make_kernel, retries=2, retry_backoff=0.01, retry_after_max=5)
    with kernel.open_transport(server.url) as peer, pytest.raises(TransportError) as caught:
        peer.echo()
    assert waits[0] == 5 and len(waits) == 2
    assert "HTTP 500 Internal Server Error: Internal error" in str(caught.value)
    assert "gave up after 3 attempts" in str(caught.value)


def test_connection_refused_backs_off_with_jitter_then_fails(make_kernel, waits):
    url = f"orthanc+http://127.0.0.1:{free_port()}?timeout=2"
    kernel = _kernel(make_kernel, retries=3, retry_backoff=0.2, retry_max_wait=0.5)
    with kernel.open_transport(url) as peer, pytest.raises(TransportError) as caught:
        peer.echo()
    assert "cannot connect" in str(caught.value) and "gave up after 4 attempts" in str(caught.value)
    assert len(waits) == 3 and all(0.2 <= wait <= 0.5 for wait in waits)
    assert waits[-1] == 0.5 or waits[1] > waits[0] or waits[2] > waits[0]  # it grows, up to the cap


def test_breaker_opens_fails_fast_then_lets_one_trial_through(make_kernel, scripted, waits):
    server = scripted("500", "500")
    kernel = _kernel(make_kernel, retries=0, breaker_failures=2, breaker_reset=0.5)
    with kernel.open_transport(server.url) as peer:
        for _ in range(2):
            with pytest.raises(TransportError, match="HTTP 500"):
                peer.echo()
        with pytest.raises(TransportError, match="circuit breaker is open after 2 consecutive failures"):
            peer.echo()
        assert len(server.requests) == 2  # the third never reached the server
    # another adapter for the same node shares its breaker
    with kernel.open_transport(server.url) as again, pytest.raises(TransportError, match="circuit breaker"):
        again.echo()
    time.sleep(0.6)
    with kernel.open_transport(server.url) as peer:
        assert peer.echo().ok  # the one trial, and the server is fine now
        assert peer.echo().ok
    assert len(server.requests) == 4


def test_a_4xx_answer_does_not_open_the_breaker(make_kernel, orthanc_url, site):
    kernel = _kernel(make_kernel, retries=0, breaker_failures=1)
    with kernel.open_transport(orthanc_url) as peer:
        for _ in range(3):
            with pytest.raises(TransportError, match="HTTP 404"):
                peer.client.get_json("/studies/no-such-study")
        assert peer.echo().ok


def test_a_dropped_kept_alive_connection_is_replaced_transparently(make_kernel, scripted, waits):
    server = scripted("ok", "drop")
    kernel = _kernel(make_kernel, retries=0)  # no retry budget: the reconnect is not a retry
    with kernel.open_transport(server.url) as peer:
        assert peer.echo().ok
        assert peer.echo().ok
    assert server.connections == 2 and len(server.requests) == 3 and waits == []


def test_orthanc_closing_idle_connections_is_not_noticed(make_kernel, dedicated_orthanc):
    orthanc = dedicated_orthanc(KeepAliveTimeout=1)
    kernel = _kernel(make_kernel, retries=0)
    with kernel.open_transport(f"orthanc+http://127.0.0.1:{orthanc.http_port}") as peer:
        assert peer.echo().ok
        time.sleep(2.5)  # Orthanc has closed our idle connection by now
        assert peer.echo().ok
        assert list(peer.find("study", {})) == []


def test_a_silent_server_times_out_and_is_retried(make_kernel, scripted, waits):
    server = scripted("hang", "hang")
    kernel = _kernel(make_kernel, retries=1, retry_backoff=0.01)
    with kernel.open_transport(f"{server.url}?read_timeout=0.5") as peer, pytest.raises(TransportError) as caught:
        peer.echo()
    assert "ReadTimeout" in str(caught.value) and "gave up after 2 attempts" in str(caught.value)
    assert len(server.requests) == 2


def test_bearer_token_goes_in_the_header_and_never_in_logs(make_kernel, scripted, waits, capfd):
    server = scripted("503:0")
    kernel = _kernel(make_kernel, token="tok-SECRET-42", retry_backoff=0.01)
    with kernel.open_transport(server.url) as peer:
        assert peer.echo().ok
    assert all("authorization: bearer tok-secret-42" in head.lower() for head in server.headers)
    out, err = capfd.readouterr()
    assert "tok-SECRET-42" not in out + err


def test_basic_password_never_in_logs_or_errors(make_kernel, scripted, waits, capfd):
    server = scripted("500", "500", "500")
    url = server.url.replace("://", "://bob:pw-SECRET-7@")
    with _kernel(make_kernel, retry_backoff=0.01).open_transport(url) as peer, pytest.raises(TransportError) as caught:
        peer.echo()
    out, err = capfd.readouterr()
    assert "pw-SECRET-7" not in str(caught.value) + out + err and "bob:***@" in str(caught.value)
    assert all("authorization: basic " in head.lower() for head in server.headers)


def test_an_archive_cut_midway_is_downloaded_again(make_kernel, scripted, waits, corpus, tmp_path):
    import io
    import zipfile

    members = sorted(corpus.files.values())[:2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, path in enumerate(members):
            archive.writestr(f"SERIES/IM{number}", path.read_bytes())
    archive_bytes = buffer.getvalue()
    server = scripted(routes={"POST /tools/find": [("ok", b'["abc"]')],
                              "GET /series/abc/archive": [("cut", archive_bytes), ("ok", archive_bytes)]})
    kernel = _kernel(make_kernel, retries=1, retry_backoff=0.01)
    store = kernel.open_instance_store(str(tmp_path / "store"))
    with kernel.open_transport(server.url) as peer:
        results = list(peer.retrieve("series", {"Modality": "CT"}, into=store))
    assert server.requests.count("GET /series/abc/archive HTTP/1.1") == 2 and len(waits) == 1
    stored = [result for result in results if result.sop_instance_uid]
    assert len(stored) == 2 and results[-1].completed == 2
    received = sorted(store.open(result.location).read() for result in stored)
    assert received == sorted(path.read_bytes() for path in members)
