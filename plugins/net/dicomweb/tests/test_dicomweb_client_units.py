"""URL parsing, query building and the streaming multipart parser and writer (no network)."""

from __future__ import annotations

import io
import os

import pytest

from gantry import TransportError
from gantry.testing.fixtures import kernel_with

from gantry_dicomweb.multipart import MultipartBody, content_type_params, iter_parts
from gantry_dicomweb.qido import attribute_id, build_query
from gantry_dicomweb.urls import parse_dicomweb_url


def test_urls_resolve_to_a_service_root():
    address = parse_dicomweb_url("dicomweb+http://127.0.0.1:8042/dicom-web/?timeout=5&retries=0&page_size=7")
    assert address.base == "http://127.0.0.1:8042/dicom-web"
    assert (address.connect_timeout, address.read_timeout, address.retries, address.page_size) == (5, 5, 0, 7)
    secure = parse_dicomweb_url("dicomweb+https://pacs.example/wado")
    assert secure.base == "https://pacs.example:443/wado" and secure.verify
    assert parse_dicomweb_url("dicomweb+http://[::1]:80/x").base == "http://[::1]:80/x"


def test_url_credentials_are_masked_and_query_secrets_refused():
    address = parse_dicomweb_url("dicomweb+https://bob:pa%40ss@pacs.example/dicom-web")
    assert address.credentials.username == "bob" and address.credentials.password == "pa@ss"
    assert address.url == "dicomweb+https://bob:***@pacs.example:443/dicom-web"
    assert "pa@ss" not in repr(address)
    with pytest.raises(TransportError, match="unknown query key.*never in the URL") as err:
        parse_dicomweb_url("dicomweb+https://bob:hunter2@pacs.example/x?token=abc")
    assert "hunter2" not in str(err.value)


def test_bad_urls_say_what_is_wrong():
    for url, message in [("dicomweb+ftp://x/y", "scheme"), ("dicomweb+http:///x", "no host"),
                         ("dicomweb+http://h/x?timeout=-1", "positive"), ("dicomweb://nowhere", "no node named"),
                         ("dicomweb+http://h:99999/x", "port")]:
        with pytest.raises(TransportError, match=message):
            parse_dicomweb_url(url)


def test_named_nodes(monkeypatch):
    monkeypatch.setenv("PACS_TOKEN", "t0ken")
    settings = {"nodes": [{"name": "pacs", "url": "dicomweb+https://pacs.example/dw", "token_env": "PACS_TOKEN",
                           "ca_bundle": "/etc/ca.pem"}]}
    address = parse_dicomweb_url("dicomweb://pacs?retries=5", settings)
    assert address.node == "pacs" and address.credentials.token == "t0ken" and address.retries == 5
    assert address.ca_bundle == "/etc/ca.pem" and "t0ken" not in repr(address) + address.url
    assert parse_dicomweb_url("pacs", settings).base == "https://pacs.example:443/dw"
    with pytest.raises(TransportError, match="unknown key"):
        parse_dicomweb_url("dicomweb://pacs", {"nodes": [{"name": "pacs", "url": "dicomweb+http://h/x", "ae": "X"}]})
    with pytest.raises(TransportError, match="NOT_SET_ANYWHERE"):
        parse_dicomweb_url("dicomweb+http://h/x", {"token_env": "NOT_SET_ANYWHERE"})


def test_the_kernel_picks_this_transport_by_scheme_and_validates_the_section():
    kernel = kernel_with(discover=True)
    for scheme in ("dicomweb+http", "dicomweb+https", "dicomweb"):
        assert kernel.active("transport", scheme).plugin == "dicomweb"
    from gantry import ConfigError

    with pytest.raises(ConfigError, match="retries"):
        kernel_with(discover=True, config={"dicomweb": {"retries": "many"}})


def test_query_building():
    query = build_query("series", {"StudyInstanceUID": "1.2.3", "Modality": "CT\\MR", "SeriesNumber": "",
                                   "QueryRetrieveLevel": "SERIES"}, include_fields=["all"], fuzzy=True)
    assert query.path == "studies/1.2.3/series"
    assert query.params == (("Modality", "CT,MR"), ("includefield", "SeriesNumber"), ("includefield", "all"),
                            ("fuzzymatching", "true"))
    assert build_query("instance", {"StudyInstanceUID": "1.2*"}).path == "instances"
    assert build_query("instance", {"StudyInstanceUID": "1.2", "SeriesInstanceUID": "1.3"}).path == \
        "studies/1.2/series/1.3/instances"
    assert attribute_id("ReferencedSeriesSequence.SeriesInstanceUID") == "00081115.0020000E"
    assert attribute_id("(0010,0010)") == "00100010"


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "b0und") -> bytes:
    body = b"preamble to ignore\r\n"
    for kind, data in parts:
        body += f"--{boundary}\r\nContent-Type: {kind}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\nepilogue".encode()


@pytest.mark.parametrize("size", [1, 2, 7, 64, 100000])
def test_multipart_parts_survive_any_chunking(size):
    parts = [("application/dicom", b"A" * 50 + b"\r\n--b0un" + b"B" * 10), ("application/octet-stream", b""),
             ("application/dicom", os.urandom(3000))]
    body = _multipart(parts)
    chunks = [body[start:start + size] for start in range(0, len(body), size)]
    parsed = list(iter_parts(chunks, "b0und", lambda headers: io.BytesIO()))
    assert [(part.content_type, part.body.getvalue()) for part in parsed] == parts


def test_multipart_streams_a_large_part_in_pieces():
    payload = os.urandom(5 * 1024 * 1024)
    body = _multipart([("application/dicom", payload)])

    class Recorder(io.BytesIO):
        writes = 0

        def write(self, data):  # type: ignore[override]
            Recorder.writes += 1
            return super().write(data)

    parsed = list(iter_parts((body[i:i + 65536] for i in range(0, len(body), 65536)), "b0und",
                             lambda headers: Recorder()))
    assert parsed[0].body.getvalue() == payload and Recorder.writes > 10


def test_multipart_that_breaks_off_is_an_error():
    body = _multipart([("application/dicom", b"x" * 100)])
    with pytest.raises(TransportError, match="ended inside a part"):
        list(iter_parts([body[:-40]], "b0und", lambda headers: io.BytesIO()))


def test_multipart_body_round_trips_with_its_exact_length(tmp_path):
    files = []
    for number, data in enumerate([b"first", os.urandom(2_500_000), b""]):
        path = tmp_path / f"{number}.bin"
        path.write_bytes(data)
        files.append(str(path))
    body = MultipartBody(files)
    data = b"".join(body.chunks())
    assert len(data) == len(body)
    media, params = content_type_params(body.content_type)
    assert media == "multipart/related" and params["type"] == "application/dicom"
    parsed = list(iter_parts([data], params["boundary"], lambda headers: io.BytesIO()))
    assert [part.body.getvalue() for part in parsed] == [open(path, "rb").read() for path in files]
