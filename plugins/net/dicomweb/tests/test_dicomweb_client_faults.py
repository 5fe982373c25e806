"""Retries, Retry-After, the circuit breaker, TLS verification and server-capped paging, against
small real HTTP(S) servers on 127.0.0.1 that answer from a script."""

from __future__ import annotations

import json
import ssl
import time

import pytest

from gantry import TransportError
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.network import free_port

from gantry.resilience import CircuitOpenError
from gantry_dicomweb.transport import open_transport

JSON = {"Content-Type": "application/dicom+json"}
EMPTY = (200, JSON, b"[]")


def study(uid: str) -> dict:
    return {"0020000D": {"vr": "UI", "Value": [uid]}}


def test_503_with_retry_after_is_retried_after_that_long(http_peer, waits):
    peer = http_peer([(503, {"Retry-After": "2"}, b"busy"), EMPTY])
    with open_transport(peer.url()) as client:
        result = client.echo()
    assert result.ok and result.status == 200
    assert waits == [2.0]
    assert [request.path for request in peer.requests] == ["/dicom-web/studies?limit=1"] * 2


def test_429_without_retry_after_backs_off_with_jitter(http_peer, waits):
    peer = http_peer([(429, {}, b""), (502, {}, b""), EMPTY])
    with open_transport(peer.url(), {"retry_backoff": 0.5}) as client:
        assert client.echo().ok
    assert len(waits) == 2 and len(peer.requests) == 3
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 1.5  # 0.5 * 2^n plus up to 0.5 of jitter


def test_retry_after_is_capped(http_peer, waits):
    peer = http_peer([(503, {"Retry-After": "3600"}, b""), EMPTY])
    with open_transport(peer.url(), {"retry_after_max": 5}) as client:
        assert client.echo().ok
    assert waits == [5.0]


def test_attempts_are_bounded(http_peer, waits):
    peer = http_peer([(503, {}, b"down")])
    with open_transport(peer.url(), {"retries": 2}) as client, \
            pytest.raises(TransportError, match=r"HTTP 503.*gave up after 3 attempts"):
        client.echo()
    assert len(peer.requests) == 3 and len(waits) == 2


def test_client_errors_are_not_retried(http_peer, waits):
    peer = http_peer([(400, {"Content-Type": "text/plain"}, b"bad query")])
    with open_transport(peer.url()) as client, pytest.raises(TransportError, match="HTTP 400 Bad Request: bad query"):
        list(client.find("study", {"PatientID": "1"}))
    assert len(peer.requests) == 1 and waits == []


def test_connection_refused_is_retried_then_a_transport_error(waits):
    url = f"dicomweb+http://127.0.0.1:{free_port()}/dicom-web"
    with open_transport(url, {"retries": 1}) as client, pytest.raises(TransportError, match="ConnectError") as err:
        client.echo()
    assert "gave up after 2 attempts" in str(err.value) and len(waits) == 1


def test_the_breaker_opens_and_lets_a_trial_through_later(http_peer, waits):
    peer = http_peer([(503, {}, b""), (503, {}, b""), EMPTY])
    settings = {"retries": 0, "breaker_failures": 2, "breaker_reset": 1.0}
    with open_transport(peer.url(), settings) as client:
        for _ in range(2):
            with pytest.raises(TransportError, match="HTTP 503"):
                client.echo()
        with pytest.raises(CircuitOpenError, match="circuit breaker is open after 2"):
            client.echo()
        assert len(peer.requests) == 2  # the third call never reached the server
    # A fresh adapter for the same server shares its breaker: still open.
    with open_transport(peer.url(), settings) as again:
        with pytest.raises(CircuitOpenError):
            again.echo()
        time.sleep(1.1)
        assert again.echo().ok  # the trial after breaker_reset, answered: closed again
        assert again.client.breaker.state == "closed"
    assert len(peer.requests) == 3


def test_stow_body_is_streamed_again_on_retry(http_peer, waits, tmp_path):
    dataset = make_dataset(rows=4, columns=4)
    path = write_dataset(dataset, tmp_path / "one.dcm")
    answer = {"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": [dataset.SOPInstanceUID]}}]}}
    peer = http_peer([(503, {}, b""), (200, JSON, json.dumps(answer).encode())])
    with open_transport(peer.url()) as client:
        results = list(client.store([str(path)]))
    assert [result.ok for result in results] == [True] and results[0].status == 0
    first, second = peer.requests
    assert first.body == second.body and int(second.headers["Content-Length"]) == len(second.body)
    assert open(path, "rb").read() in second.body
    assert second.headers["Content-Type"].startswith('multipart/related; type="application/dicom"; boundary=')
    assert "Transfer-Encoding" not in second.headers


def test_stow_answer_that_omits_an_instance_fails_it(http_peer, tmp_path):
    paths = [write_dataset(make_dataset(instance=number, rows=4, columns=4), tmp_path / f"{number}.dcm")
             for number in (1, 2)]
    uid = make_dataset(instance=1).SOPInstanceUID
    answer = {"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": [uid]},
                                                   "00081196": {"vr": "US", "Value": [0xB000]}}]}}
    peer = http_peer([(202, JSON, json.dumps(answer).encode())])
    with open_transport(peer.url()) as client:
        first, second = client.store(paths)
    assert first.ok and first.status == 0xB000 and "warning" in first.reason
    assert not second.ok and "does not mention" in second.reason


def test_paging_goes_on_while_the_server_warns_of_more(http_peer):
    warn = {**JSON, "Warning": "299 orthanc: There are additional results that can be requested"}
    peer = http_peer([(200, warn, json.dumps([study("1.1"), study("1.2")]).encode()),
                      (200, JSON, json.dumps([study("1.3")]).encode())])
    with open_transport(peer.url()) as client:
        uids = [str(item.StudyInstanceUID) for item in client.find("study", {"PatientID": "X"})]
    assert uids == ["1.1", "1.2", "1.3"]
    assert peer.requests[0].path.endswith("PatientID=X&limit=100&offset=0")
    assert peer.requests[1].path.endswith("PatientID=X&limit=100&offset=2")


def test_wildcards_travel_unescaped(http_peer):
    peer = http_peer([EMPTY])
    with open_transport(peer.url()) as client:
        list(client.find("study", {"PatientName": "DOE^J*", "StudyDate": "20240101-", "ModalitiesInStudy": "CT\\MR"}))
    assert peer.requests[0].path.startswith(
        "/dicom-web/studies?PatientName=DOE^J*&StudyDate=20240101-&ModalitiesInStudy=CT,MR&limit=")


def test_bearer_token_from_the_environment_goes_in_the_header_only(http_peer, monkeypatch):
    monkeypatch.setenv("GANTRY_TEST_TOKEN", "tok-SECRET-123")
    peer = http_peer([EMPTY])
    with open_transport(peer.url(), {"token_env": "GANTRY_TEST_TOKEN"}) as client:
        assert client.echo().ok
        assert "tok-SECRET" not in repr(client) + client.url + repr(client.address)
    assert peer.requests[0].headers["Authorization"] == "Bearer tok-SECRET-123"
    assert "tok-SECRET" not in peer.requests[0].path


def test_tls_is_verified_by_default_and_a_ca_bundle_is_trusted(http_peer, self_signed, waits):
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    peer = http_peer([EMPTY], ssl_context=context)
    assert peer.url().startswith("dicomweb+https://")
    with open_transport(peer.url()) as client, pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        client.echo()
    assert waits == []  # a certificate problem is not retried
    with open_transport(peer.url(), {"ca_bundle": cert}) as client:
        assert client.echo().ok
    with open_transport(peer.url(), {"verify": False}) as client:
        assert client.echo().ok
    assert len(peer.requests) == 2


def test_messages_name_the_resource_not_the_patient(http_peer, waits):
    peer = http_peer([(503, {}, b"")])
    with open_transport(peer.url(), {"retries": 0}) as client, pytest.raises(TransportError) as err:
        list(client.find("study", {"PatientID": "PHI-PID-000417"}))
    assert "GET /studies failed: HTTP 503" in str(err.value) and "PHI-PID" not in str(err.value)


def test_a_server_that_never_answers_times_out(waits):
    import socket

    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"dicomweb+http://127.0.0.1:{silent.getsockname()[1]}/dicom-web?read_timeout=0.3&retries=1"
        with open_transport(url) as client, pytest.raises(TransportError, match="ReadTimeout.*2 attempts"):
            client.echo()
    assert len(waits) == 1
