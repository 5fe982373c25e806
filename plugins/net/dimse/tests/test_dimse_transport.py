"""The dicom:// adapter against real peers: dcmtk storescp and our own Listener."""

from __future__ import annotations

import time

import pytest

from gantry import TransportError
from gantry.transport import EchoResult
from gantry.resilience import CircuitOpenError
from gantry_dimse.sockets import association_socket, has_nodelay
from gantry_dimse.transport import open_transport


def url_of(peer) -> str:
    return peer.url


def test_echo_against_dcmtk_storescp(storescp):
    with open_transport(f"dicom://DCMTK@127.0.0.1:{storescp.port}?calling=GANTRY") as peer:
        assert url_of(peer) and callable(peer.echo)  # the operations its descriptor declares
        result = peer.echo()
    assert isinstance(result, EchoResult)
    assert result.ok and result.status == 0x0000 and result.seconds > 0


def test_two_echoes_share_one_association(storescp, listener):
    ours = listener()
    with open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}", {"idle_timeout": 30}) as peer:
        assert peer.echo().ok and peer.echo().ok
        assert peer.pool.opened == 1
    assert ours.accepted == 1
    # The same with dcmtk counting: its verbose log says so once per association (the fixture's
    # readiness probe was one connection already).
    before = storescp.log.read_text().count("Association Received")
    with open_transport(f"dicom://DCMTK@127.0.0.1:{storescp.port}") as peer:
        for _ in range(3):
            assert peer.echo().ok
    assert storescp.log.read_text().count("Association Received") == before + 1


def test_idle_associations_are_released_after_the_idle_timeout(listener, wait_for):
    ours = listener()
    with open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}", {"idle_timeout": 0.3}) as peer:
        peer.echo()
        assert peer.pool.idle_count() == 1
        assert wait_for(lambda: ours.released == 1)
        assert peer.pool.idle_count() == 0
        peer.echo()  # a new association, transparently
        assert peer.pool.opened == 2 and ours.accepted == 2


def test_an_idle_timeout_of_zero_releases_after_each_operation(listener):
    ours = listener()
    with open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}", {"idle_timeout": 0}) as peer:
        peer.echo()
        peer.echo()
        assert peer.pool.idle_count() == 0 and peer.pool.opened == 2


def test_an_association_the_peer_dropped_is_replaced(listener, wait_for):
    ours = listener()
    with open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        peer.echo()
        for assoc in ours.open_associations():
            assoc.abort()
        assert wait_for(lambda: not ours.open_associations())
        assert peer.echo().ok
        assert peer.pool.opened == 2


def test_tcp_nodelay_is_set_on_both_ends(listener):
    ours = listener()
    with open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        peer.echo()
        (client,) = [assoc for assoc, _ in next(iter(peer.pool._idle.values()))]
        assert has_nodelay(association_socket(client))
        (server,) = ours.open_associations()
        assert has_nodelay(association_socket(server))
        assert has_nodelay(ours._server.socket)


def test_unreachable_port_retries_then_names_host_port_with_the_real_cause(free_port, waits):
    port = free_port()
    with open_transport(f"dicom://PACS@127.0.0.1:{port}", {"retries": 3, "retry_backoff": 0.5,
                                                            "retry_max_wait": 2}) as peer:
        with pytest.raises(TransportError) as caught:
            peer.echo()
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "Connection refused" in message
    assert "gave up after 4 attempts" in message
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert len(waits) == 3  # between four attempts
    assert all(0.5 <= wait <= 2.0 for wait in waits) and waits[1] >= 1.0  # grows, within the cap


def test_the_breaker_opens_fails_fast_and_closes_after_the_reset(free_port, waits, listener):
    port = free_port()
    settings = {"retries": 1, "breaker_failures": 3, "breaker_reset": 0.3}
    url = f"dicom://PACS@127.0.0.1:{port}"
    with open_transport(url, settings) as peer:
        with pytest.raises(TransportError, match="gave up after 2 attempts"):
            peer.echo()
        with pytest.raises(TransportError) as caught:  # 3rd failure opens it; the 4th try is refused
            peer.echo()
        assert isinstance(caught.value, CircuitOpenError)
    with open_transport(url, settings) as other_adapter:  # the breaker is per node, not per adapter
        with pytest.raises(CircuitOpenError, match="circuit breaker is open after 3 consecutive"):
            other_adapter.echo()
    attempts_so_far = len(waits)
    time.sleep(0.35)
    # After the reset, the node is up again (a listener on that port): the trial closes the breaker.
    from gantry_dimse.listener import Listener

    with Listener(None, "PACS", "127.0.0.1", port) as back_up, open_transport(url, settings) as peer:
        assert peer.echo().ok and peer.breaker.state == "closed"
        assert back_up.accepted == 1
    assert len(waits) == attempts_so_far


def test_a_rejection_is_not_retried_and_says_why(listener, waits):
    ours = listener(allow=("FRIEND",))
    with open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}?calling=STRANGER") as peer:
        with pytest.raises(TransportError) as caught:
            peer.echo()
    message = str(caught.value)
    assert "A-ASSOCIATE-RJ" in message and "Calling AE title not recognised" in message
    assert "calling STRANGER" in message and waits == []
