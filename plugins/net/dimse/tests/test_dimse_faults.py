"""Peers that break the rules, written byte by byte (``RawPeer``), against our Listener: it drops
each of them, frees its association slot, and keeps answering everybody else."""

from __future__ import annotations

import struct
import threading

import pytest

from gantry_dimse.settings import DimseSettings, Timeouts
from gantry_dimse.testing import A_ABORT, VERIFICATION, RawPeer
from gantry_dimse.transport import open_transport

#: Timeouts long enough never to be what ends a test that expects another cause.
PATIENT = Timeouts(connect=10, acse=60, dimse=60, network=60)
#: ARTIM (acse) and the idle/read timeout (network) short, for the tests that wait for them.
IMPATIENT = Timeouts(connect=10, acse=0.5, dimse=10, network=0.5)


def settings(timeouts: Timeouts = PATIENT, max_associations: int = 10) -> DimseSettings:
    return DimseSettings(timeouts=timeouts, max_associations=max_associations)


def echo_ok(port: int) -> bool:
    with open_transport(f"dicom://OURAE@127.0.0.1:{port}?retries=0&timeout=10") as peer:
        return peer.echo().ok


def no_association_left(ours, wait_for) -> bool:
    return wait_for(lambda: not any(assoc.is_alive() for assoc in ours._associations), 10)


def test_garbage_instead_of_an_association_request_is_dropped(listener, wait_for):
    ours = listener(settings=settings())
    with RawPeer(ours.port, timeout=10) as peer:
        peer.send(b"GET / HTTP/1.1\r\nHost: pacs\r\n\r\n")
        assert peer.closed_by_listener()
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port) and ours.accepted == 1


def test_a_pdu_announcing_gigabytes_is_refused_unread(listener, wait_for):
    ours = listener(settings=settings())
    # An A-ASSOCIATE-RQ header announcing 4 GB, then nothing: without the limit the listener
    # would wait for the rest (and buffer whatever came) until the 60 s network timeout.
    with RawPeer(ours.port, timeout=10) as peer:
        peer.send(struct.pack(">BBI", 0x01, 0, 0xFFFFFFF0) + b"\x00\x01")
        assert peer.closed_by_listener()  # within the 10 s the peer waits, so not the timeout
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_a_p_data_announcing_gigabytes_on_an_association_is_refused(listener, wait_for):
    ours = listener(settings=settings())
    with RawPeer(ours.port, timeout=10) as peer:
        assert peer.associate("OURAE", [VERIFICATION])
        peer.send(struct.pack(">BBI", 0x04, 0, 0x7FFFFFFF) + b"\x00" * 64)
        assert peer.closed_by_listener()
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_a_truncated_p_data_then_close_ends_only_that_association(listener, wait_for):
    ours = listener(settings=settings())
    with RawPeer(ours.port, timeout=10) as peer:
        assert peer.associate("OURAE", [VERIFICATION])
        (echo,) = peer.echo_pdus()
        peer.send(echo[:len(echo) // 2])
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_a_peer_stopping_in_the_middle_of_a_pdu_is_dropped_and_frees_its_slot(listener, wait_for):
    ours = listener(settings=settings(IMPATIENT, max_associations=1))
    with RawPeer(ours.port, timeout=30) as peer:
        assert peer.associate("OURAE", [VERIFICATION])
        (echo,) = peer.echo_pdus()
        peer.send(echo[:10])  # and then nothing, connection kept open
        assert peer.closed_by_listener()  # the read timed out: network_timeout
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)  # the only slot is free again


def test_a_silent_peer_is_dropped_by_artim_and_frees_its_slot(listener, wait_for):
    ours = listener(settings=settings(IMPATIENT, max_associations=1))
    with RawPeer(ours.port, timeout=30) as silent:
        assert silent.closed_by_listener()  # no A-ASSOCIATE-RQ within acse_timeout (ARTIM)
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_a_silent_peer_holds_a_slot_only_until_artim(listener, wait_for):
    ours = listener(settings=settings(Timeouts(connect=10, acse=3, dimse=10, network=10), max_associations=1))
    with RawPeer(ours.port, timeout=30) as silent:
        assert wait_for(lambda: any(assoc.is_alive() for assoc in ours._associations))
        with RawPeer(ours.port, timeout=30) as second:
            # The one slot is taken: the listener rejects (transient, local limit exceeded).
            assert not second.associate("OURAE", [VERIFICATION])
        assert silent.closed_by_listener()
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_an_associated_peer_that_goes_quiet_is_released_after_the_network_timeout(listener, wait_for):
    ours = listener(settings=settings(IMPATIENT, max_associations=1))
    with RawPeer(ours.port, timeout=30) as quiet:
        assert quiet.associate("OURAE", [VERIFICATION])
        assert quiet.closed_by_listener()
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_an_a_abort_right_after_associating_ends_the_association(listener, wait_for):
    ours = listener(settings=settings())
    with RawPeer(ours.port, timeout=10) as peer:
        assert peer.associate("OURAE", [VERIFICATION])
        peer.send(A_ABORT)
        assert peer.closed_by_listener()
    assert no_association_left(ours, wait_for)
    assert ours.released == 0  # aborted, not released
    assert echo_ok(ours.port)


def test_a_raw_echo_is_answered(listener):
    """The hand-written PDUs are what a listener understands: the tests above are not vacuous."""
    ours = listener(settings=settings())
    with RawPeer(ours.port, timeout=10) as peer:
        assert peer.associate("OURAE", [VERIFICATION])
        peer.send(*peer.echo_pdus())
        assert peer.read_status() == 0x0000


@pytest.mark.parametrize("rounds", [3])
def test_many_bad_peers_at_once_while_others_are_served(listener, wait_for, rounds):
    ours = listener(settings=settings(IMPATIENT, max_associations=30))
    failures: list[str] = []

    def misbehave(kind: str) -> None:
        try:
            with RawPeer(ours.port, timeout=30) as peer:
                if kind == "garbage":
                    peer.send(b"\x47" * 100)
                elif kind == "absurd":
                    peer.send(struct.pack(">BBI", 0x01, 0, 0xFFFFFFF0))
                elif kind == "silent":
                    pass
                else:
                    assert peer.associate("OURAE", [VERIFICATION])
                    (echo,) = peer.echo_pdus()
                    peer.send(echo[:7] if kind == "stalled" else A_ABORT)
                if not peer.closed_by_listener():
                    failures.append(f"{kind}: not dropped")
        except Exception as err:
            failures.append(f"{kind}: {type(err).__name__}: {err}")

    kinds = ["garbage", "absurd", "silent", "stalled", "abort"] * rounds
    threads = [threading.Thread(target=misbehave, args=(kind,)) for kind in kinds]
    for thread in threads:
        thread.start()
    try:
        assert all(echo_ok(ours.port) for _ in range(5))  # served while the others misbehave
    finally:
        for thread in threads:
            thread.join(60)
    assert failures == []
    assert no_association_left(ours, wait_for)
    assert echo_ok(ours.port)


def test_our_client_refuses_an_answer_announcing_gigabytes(free_port):
    """The requesting side has the same limit: a node answering the A-ASSOCIATE-RQ with a PDU
    header claiming 4 GB makes us drop the connection, not allocate 4 GB or wait for them."""
    import socket

    from gantry import TransportError

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    answered = threading.Event()
    client_hung_up = threading.Event()

    def hostile() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)  # the A-ASSOCIATE-RQ
            connection.sendall(struct.pack(">BBI", 0x02, 0, 0xFFFFFFF0) + bytes(64))
            answered.set()
            connection.settimeout(30)  # far below the client's 120 s timeouts
            try:
                while connection.recv(65536):
                    pass
                client_hung_up.set()
            except OSError:
                pass

    thread = threading.Thread(target=hostile)
    thread.start()
    try:
        url = f"dicom://HOSTILE@127.0.0.1:{port}?retries=0&acse_timeout=120&network_timeout=120"
        with open_transport(url) as peer:
            with pytest.raises(TransportError, match="aborted the association request"):
                peer.echo()
        assert answered.is_set()
    finally:
        thread.join(60)
        server.close()
    # We closed the connection on reading the header, rather than waiting for 4 GB (which only
    # the timeouts would have ended, long after the hostile node gave up on us).
    assert client_hung_up.is_set()
