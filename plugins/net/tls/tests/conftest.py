"""Fixtures for the gantry-tls tests: throw-away certificates and our TLS listener.

- ``pki``: a CA, a server and a client certificate it signed (CN and SAN 127.0.0.1), and a
  server certificate from another CA, as PEM files; made once per session;
- ``tls_listener(**tls_settings)``: our Listener serving dicoms:// on 127.0.0.1 and a free port;
- ``client_settings``: the [tls] section of a client that trusts the CA and presents its certificate.

Every test also checks that it leaves no thread behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gantry_dimse.testing import listeners, no_threads_left
from gantry_tls.testing import HOST, Pki, make_pki

__all__ = ["HOST", "Pki"]


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def client_settings(pki: Pki) -> dict[str, Any]:
    return pki.client_settings()


@pytest.fixture
def tls_listener(pki: Pki) -> Iterator[Callable[..., Any]]:
    from gantry_tls.contexts import server_ssl_context

    def start(**tls_settings: Any) -> Any:
        return begin(None, "OURAE", ssl_context=server_ssl_context(pki.server_settings(**tls_settings)))

    with listeners() as begin:
        yield start
