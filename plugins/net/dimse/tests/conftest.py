"""Fixtures for the gantry-dimse tests: real peers on 127.0.0.1, started and stopped by the tests.

- ``free_port()``: a TCP port nobody listens on (yet);
- ``listener(**options)``: our Listener on 127.0.0.1 and a free port, stopped after the test;
- ``storescp``: dcmtk's storescp (AE ``DCMTK``, TCP_NODELAY=1), answering C-ECHO;
- ``waits``: replaces the retry sleep, recording each wait, so retry tests run at once.

Every test also checks that it leaves no thread behind, and starts with no breaker state.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gantry_dimse.testing import free_port as _free_port, listeners, no_threads_left, wait_until

STARTUP_SECONDS = 10.0


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@pytest.fixture
def free_port() -> Callable[[], int]:
    return _free_port


@pytest.fixture
def wait_for() -> Callable[..., bool]:
    return wait_until


@pytest.fixture
def listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield lambda ae_title="OURAE", **options: start(options.pop("kernel", None), ae_title, **options)


@pytest.fixture
def storescp(tmp_path: Any) -> Iterator[Any]:
    program = shutil.which("storescp")
    if program is None:
        pytest.fail("dcmtk is not installed: apt-get install -y dcmtk")
    port = _free_port()
    out = tmp_path / "storescp-out"
    out.mkdir()
    log = open(tmp_path / "storescp.log", "wb")
    process = subprocess.Popen([program, "-v", "-aet", "DCMTK", "-od", str(out), str(port)],
                               stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "TCP_NODELAY": "1"})

    def accepting() -> bool:
        if process.poll() is not None:
            return True  # exited: reported below
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(accepting, STARTUP_SECONDS)
        if process.poll() is not None:
            pytest.fail(f"storescp exited at start: {(tmp_path / 'storescp.log').read_text()}")
        yield type("Peer", (), {"port": port, "ae_title": "DCMTK", "log": tmp_path / "storescp.log"})
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    import gantry.resilience

    recorded: list[float] = []
    monkeypatch.setattr(gantry.resilience, "sleep", recorded.append)
    return recorded
