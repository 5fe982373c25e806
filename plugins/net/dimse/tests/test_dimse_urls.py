"""dicom:// URLs, AE titles and named nodes."""

from __future__ import annotations

import pytest

from gantry import TransportError
from gantry_dimse.urls import DEFAULT_PORT, parse_dicom_url, validate_ae_title

NODES = {"calling_ae": "SITE", "nodes": [
    {"name": "pacs", "url": "dicom://PACS@pacs.example:11112"},
    {"name": "mini", "ae": "MINI", "host": "10.0.0.5", "calling": "FRONT"},
]}


def test_a_full_url():
    address = parse_dicom_url("dicom://PACS@127.0.0.1:11112?calling=ME&timeout=5&retries=0")
    assert (address.called_ae, address.host, address.port, address.calling_ae) == ("PACS", "127.0.0.1", 11112, "ME")
    assert (address.timeouts.connect, address.timeouts.acse, address.timeouts.dimse) == (5.0, 5.0, 5.0)
    assert address.retry.attempts == 1 and address.node is None


def test_defaults_port_104_and_the_configured_calling_ae():
    address = parse_dicom_url("dicom://PACS@pacs.example", {"calling_ae": "SITE"})
    assert (address.port, address.calling_ae) == (DEFAULT_PORT, "SITE")
    assert parse_dicom_url("DICOM://PACS@h").calling_ae == "GANTRY"


def test_spaces_around_ae_titles_are_not_significant_and_percent_escapes_decode():
    address = parse_dicom_url("dicom://%20MY%20AE%20@h:1?calling=US%20")
    assert (address.called_ae, address.calling_ae) == ("MY AE", "US")


def test_ipv6_hosts():
    address = parse_dicom_url("dicom://PACS@[::1]:4242")
    assert (address.host, address.endpoint) == ("::1", "[::1]:4242")


def test_single_timeouts_override_in_the_query():
    address = parse_dicom_url("dicom://PACS@h?timeout=5&dimse_timeout=120&network_timeout=7")
    assert address.timeouts.connect == 5 and address.timeouts.dimse == 120 and address.timeouts.network == 7


@pytest.mark.parametrize(("url", "complaint"), [
    ("dicom://ABCDEFGHIJKLMNOPQ@h:104", "17 characters long; at most 16"),
    ("dicom://A%5CB@h", "backslash"),
    ("dicom://A%07B@h", "control"),
    ("dicom://%20%20@h", "called AE title is empty"),
    ("dicom://PACS@h:104?calling=", "calling AE title (?calling=) is empty"),
    ("dicom://PACS@h:0", "port must be a number from 1 to 65535"),
    ("dicom://PACS@h:99999", "port must be a number from 1 to 65535"),
    ("dicom://PACS@h:abc", "port must be a number"),
    ("dicom://PACS@h?colour=red", "unknown query key(s) colour"),
    ("dicom://PACS@h?timeout=-1", "timeout='-1' must be a positive number"),
    ("dicom://PACS@h?retries=x", "retries='x' must be a whole number"),
    ("dicom://PACS@h/some/path", "no path"),
    ("dicomweb+https://PACS@h", "scheme must be dicom://"),
    ("dicom://h:104", "no called AE title"),
    ("dicom://PACS@", "no host"),
])
def test_invalid_urls_say_what_is_wrong_and_name_the_url(url, complaint):
    with pytest.raises(TransportError) as caught:
        parse_dicom_url(url)
    assert complaint in str(caught.value)
    assert "invalid DICOM URL" in str(caught.value)


def test_a_password_is_refused_and_never_shown():
    with pytest.raises(TransportError, match="no passwords") as caught:
        parse_dicom_url("dicom://PACS:s3cret@h:104")
    assert "s3cret" not in str(caught.value) and "PACS:***@h:104" in str(caught.value)


def test_a_node_from_a_url_and_a_node_from_its_parts():
    pacs = parse_dicom_url("dicom://pacs", NODES)
    assert (pacs.called_ae, pacs.host, pacs.port, pacs.calling_ae, pacs.node) == (
        "PACS", "pacs.example", 11112, "SITE", "pacs")
    mini = parse_dicom_url("mini", NODES)
    assert (mini.called_ae, mini.host, mini.port, mini.calling_ae) == ("MINI", "10.0.0.5", 104, "FRONT")
    assert "node 'mini'" in str(mini)


def test_the_query_overrides_a_node():
    assert parse_dicom_url("dicom://pacs?calling=OTHER", NODES).calling_ae == "OTHER"


def test_an_unknown_node_lists_the_configured_ones():
    with pytest.raises(TransportError, match=r"no node named 'nope'.*\(mini, pacs\)"):
        parse_dicom_url("nope", NODES)


@pytest.mark.parametrize(("node", "complaint"), [
    ({"name": "x", "host": "h"}, "needs url, or ae and host"),
    ({"name": "x", "url": "dicom://A@h", "host": "h"}, "either url or ae/host/port"),
    ({"name": "x", "ae": "A", "host": "h", "port": "104"}, "port must be a number"),
    ({"name": "x", "ae": "A", "host": "h", "colour": 1}, "unknown key(s) colour"),
    ({"name": "bad name", "ae": "A", "host": "h"}, "name must be letters"),
    ({"name": "x", "url": "dicom://u:pw@h"}, "no passwords"),
])
def test_bad_node_entries_name_the_entry(node, complaint):
    with pytest.raises(TransportError) as caught:
        parse_dicom_url("dicom://A@h", {"nodes": [node]})
    assert "dimse.nodes entry 1" in str(caught.value) and complaint in str(caught.value)
    assert "pw" not in str(caught.value)


def test_ae_title_validation_directly():
    assert validate_ae_title("  X  ") == "X"
    with pytest.raises(ValueError, match="non-ASCII"):
        validate_ae_title("ÉCHO")
