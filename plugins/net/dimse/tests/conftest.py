"""Fixtures for the gantry-dimse tests: real peers on 127.0.0.1, started and stopped by the tests.

- ``free_port()``: a TCP port nobody listens on (yet);
- ``listener(**options)``: our Listener on 127.0.0.1 and a free port, stopped after the test;
- ``storescp``: dcmtk's storescp (AE ``DCMTK``, TCP_NODELAY=1), answering C-ECHO;
- ``waits``: replaces the retry sleep, recording each wait, so retry tests run at once.

Every test also checks that it leaves no thread behind, and starts with no breaker state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gantry_dimse.testing import dcmtk_server, free_port as _free_port, listeners, no_threads_left, wait_until


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
    port = _free_port()
    out = tmp_path / "storescp-out"
    out.mkdir()
    with dcmtk_server("storescp", ["-v", "-aet", "DCMTK", "-od", str(out), str(port)], port, tmp_path / "storescp.log"):
        yield type("Peer", (), {"port": port, "ae_title": "DCMTK", "log": tmp_path / "storescp.log"})


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    import gantry.resilience

    recorded: list[float] = []
    monkeypatch.setattr(gantry.resilience, "sleep", recorded.append)
    return recorded
