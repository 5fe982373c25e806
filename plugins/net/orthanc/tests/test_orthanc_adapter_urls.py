"""orthanc+http(s):// URLs and the [orthanc] settings."""

from __future__ import annotations

import pytest

from gantry import TransportError
from gantry_orthanc.settings import OrthancSettings
from gantry_orthanc.urls import parse_orthanc_url


def test_defaults_and_prefix():
    address = parse_orthanc_url("orthanc+https://pacs.example/orthanc/")
    assert address.base_url == "https://pacs.example:8042/orthanc" and address.url == "orthanc+https://pacs.example:8042/orthanc"
    address = parse_orthanc_url("orthanc+http://[::1]:9000")
    assert address.base_url == "http://[::1]:9000"


def test_query_overrides():
    address = parse_orthanc_url("orthanc+http://h:1?timeout=3&retries=0&page_size=7")
    settings = address.settings
    assert (settings.timeouts.connect, settings.timeouts.read, settings.retry.retries, settings.page_size) == (3, 3, 0, 7)


@pytest.mark.parametrize("url, message", [
    ("http://h:8042", r"scheme must be orthanc\+http"),
    ("orthanc+http://h:8042?secret=1", "unknown query key"),
    ("orthanc+http://h:99999", "port"),
    ("orthanc+http://h?retries=-1", "retries"),
    ("orthanc+http://:8042", "no host"),
])
def test_bad_urls(url, message):
    with pytest.raises(TransportError, match=message):
        parse_orthanc_url(url)


def test_a_bad_url_never_shows_its_password():
    with pytest.raises(TransportError) as caught:
        parse_orthanc_url("orthanc+http://bob:hunter2@h:8042?nope=1")
    assert "hunter2" not in str(caught.value) and "bob:***@" in str(caught.value)


def test_url_credentials_win_over_settings_and_token_from_env():
    settings = OrthancSettings.from_mapping({"username": "x", "password": "y"}, env={"GANTRY_ORTHANC_TOKEN": "tok-XYZ-123"})
    address = parse_orthanc_url("orthanc+http://bob:p%40ss@h:8042", settings)
    assert address.settings.credentials.username == "bob" and address.settings.credentials.password == "p@ss"
    assert address.settings.credentials.kind == "bearer"
    assert "p@ss" not in repr(address) and "tok-XYZ-123" not in repr(address.settings)
