"""C-ECHO over dicoms:// between our client and our TLS listener: mutual TLS, refusals, versions."""

from __future__ import annotations

import ssl

import pytest

import gantry.resilience
from gantry import TransportError
from gantry_dimse.sockets import association_socket, has_nodelay
from gantry_dimse.transport import open_transport as open_dimse_transport
from gantry_tls.contexts import client_ssl_context
from gantry_tls.transport import open_transport

VERIFICATION = "1.2.840.10008.1.1"


def url(port: int, host: str = "127.0.0.1", query: str = "") -> str:
    return f"dicoms://OURAE@{host}:{port}{query}"


def negotiated(peer) -> tuple[str, bool]:
    """The TLS version of the association the peer lends, and whether TCP_NODELAY is on under it."""
    def inspect(assoc):
        sock = association_socket(assoc)
        return sock.version(), has_nodelay(sock)

    return peer.run([VERIFICATION], inspect)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(gantry.resilience, "sleep", recorded.append)
    return recorded


def test_mutual_tls_echo(tls_listener, client_settings):
    ours = tls_listener(require_client_cert=True)
    with open_transport(url(ours.port), client_settings) as peer:
        assert peer.echo().ok
        version, nodelay = negotiated(peer)
    assert version in ("TLSv1.2", "TLSv1.3") and nodelay
    assert ours.accepted == 1  # the echo and the check shared the pooled association


@pytest.mark.parametrize("attempt", range(5))  # the refusal races the A-ASSOCIATE-RQ: try it a few times
def test_a_client_without_a_certificate_is_told_the_tls_1_3_server_requires_one(tls_listener, pki, waits,
                                                                                 attempt):
    ours = tls_listener(require_client_cert=True, minimum_version="1.3")
    with open_transport(url(ours.port), {"ca_file": str(pki.ca)}) as peer:
        # TLS 1.3 finishes the client's side of the handshake before the server checks for a
        # certificate: the refusal is an alert after it, never to be mistaken for an abort.
        with pytest.raises(TransportError, match=r"requires a client certificate .*\[tls\] cert_file and "
                                                 r"key_file") as refused:
            peer.echo()
        assert "aborted" not in str(refused.value)
        assert peer.breaker.state == "closed"  # the node is up: its breaker does not count this
    assert waits == []  # failed at once: the same request would be refused again
    assert ours.accepted == 0


def test_a_client_without_a_certificate_gets_a_hint_from_a_tls_1_2_server(tls_listener, pki, waits):
    ours = tls_listener(require_client_cert=True)
    context = client_ssl_context({"ca_file": str(pki.ca)})
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with open_dimse_transport(url(ours.port), ssl_context=context) as peer:
        with pytest.raises(TransportError, match="TLS handshake .* failed: .*requires a client certificate, "
                                                 r"configure \[tls\] cert_file and key_file"):
            peer.echo()
    assert waits == [] and ours.accepted == 0


def test_a_client_without_a_certificate_is_served_when_none_is_required(tls_listener, pki):
    ours = tls_listener(minimum_version="1.3")
    with open_transport(url(ours.port), {"ca_file": str(pki.ca)}) as peer:
        assert peer.echo().ok
        assert negotiated(peer)[0] == "TLSv1.3"


def test_a_server_certificate_from_another_ca_fails_verification_once(tls_listener, client_settings, pki,
                                                                        waits):
    ours = tls_listener(cert_file=str(pki.stranger_cert), key_file=str(pki.stranger_key))
    with open_transport(url(ours.port), client_settings) as peer:
        with pytest.raises(TransportError, match="TLS handshake .* failed: .*certificate verify failed"):
            peer.echo()
    assert waits == []  # no retry: the same certificate would be refused again
    assert ours.accepted == 0


def test_the_host_name_is_checked(tls_listener, client_settings):
    ours = tls_listener()
    with open_transport(url(ours.port, host="localhost"), client_settings) as peer:
        with pytest.raises(TransportError, match="certificate verify failed|Hostname mismatch"):
            peer.echo()


def test_verify_false_accepts_an_unknown_certificate(tls_listener, pki):
    ours = tls_listener(cert_file=str(pki.stranger_cert), key_file=str(pki.stranger_key))
    with open_transport(url(ours.port), {"verify": False}) as peer:
        assert peer.echo().ok


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_accepted(tls_listener, client_settings, version):
    ours = tls_listener()
    context = client_ssl_context(client_settings)
    context.minimum_version = context.maximum_version = version
    with open_dimse_transport(url(ours.port), ssl_context=context) as peer:
        assert peer.echo().ok
        assert negotiated(peer)[0] == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused(tls_listener, client_settings, waits):
    ours = tls_listener()
    context = client_ssl_context(client_settings)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with open_dimse_transport(url(ours.port), ssl_context=context) as peer:
        with pytest.raises(TransportError, match="TLS handshake"):
            peer.echo()
    assert ours.accepted == 0 and waits == []


def test_a_listener_requiring_1_3_refuses_a_1_2_client(tls_listener, client_settings):
    ours = tls_listener(minimum_version="1.3")
    context = client_ssl_context(client_settings)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with open_dimse_transport(url(ours.port), ssl_context=context) as peer:
        with pytest.raises(TransportError, match="TLS handshake"):
            peer.echo()
