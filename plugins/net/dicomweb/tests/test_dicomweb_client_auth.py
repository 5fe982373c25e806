"""Basic auth against a real Orthanc with ``AuthenticationEnabled`` and ``RegisteredUsers``:
from the URL's userinfo, from the settings and from a named node; a wrong password is refused;
passwords never show in URLs, messages or logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from gantry import TransportError
from gantry.cli import make_app
from gantry.testing.fixtures import kernel_with
from gantry.testing.orthanc import OrthancServer

from gantry_dicomweb.testing import dicomweb_url

USER, PASSWORD = "alice", "s3cret-Pw-917"


@pytest.fixture(scope="module")
def protected() -> Iterator[Any]:
    if not OrthancServer.available():
        pytest.fail("Orthanc is not installed: apt-get install -y orthanc orthanc-dicomweb")
    server = OrthancServer.start(extra={"AuthenticationEnabled": True, "RegisteredUsers": {USER: PASSWORD}})
    yield server
    server.stop()


def test_userinfo_in_the_url_authenticates_and_is_masked(protected, study_files):
    kernel = kernel_with(discover=True)
    with kernel.open_transport(dicomweb_url(protected, userinfo=f"{USER}:{PASSWORD}")) as peer:
        assert PASSWORD not in peer.url and peer.url.startswith(f"dicomweb+http://{USER}:***@")
        assert peer.echo().ok
        assert all(result.ok for result in peer.store(study_files[:1]))
        assert len(list(peer.find("instance", {"SOPInstanceUID": ""}))) >= 1


def test_credentials_from_settings_and_from_a_node(protected):
    plain = dicomweb_url(protected)
    kernel = kernel_with(discover=True, config={"dicomweb": {"username": USER, "password": PASSWORD}})
    with kernel.open_transport(plain) as peer:
        assert peer.echo().ok
    node = {"name": "secure-pacs", "url": plain, "username": USER, "password": PASSWORD}
    kernel = kernel_with(discover=True, config={"dicomweb": {"nodes": [node]}})
    with kernel.open_transport("dicomweb://secure-pacs") as peer:
        assert peer.echo().ok and peer.address.node == "secure-pacs"


def test_wrong_or_missing_credentials_are_refused(protected):
    kernel = kernel_with(discover=True)
    with kernel.open_transport(dicomweb_url(protected)) as anonymous:
        refused = anonymous.echo()
        assert not refused.ok and refused.status == 401
    with kernel.open_transport(dicomweb_url(protected, userinfo=f"{USER}:wrong-PASSWORD-x")) as wrong:
        with pytest.raises(TransportError, match="HTTP 401") as err:
            list(wrong.find("study", {"PatientID": "*"}))
    assert "wrong-PASSWORD-x" not in str(err.value)


def test_the_password_never_reaches_output_or_logs(protected, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    url = dicomweb_url(protected, userinfo=f"{USER}:{PASSWORD}")
    result = CliRunner().invoke(make_app(), ["--log-level", "debug", "find", url, "-k", "PatientID=*", "--json"])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(make_app(), ["--log-level", "debug", "find",
                                          dicomweb_url(protected, userinfo=f"{USER}:{PASSWORD}x"), "-k", "PatientID=*"])
    assert bad.exit_code == 1 and "HTTP 401" in bad.output
    captured = capfd.readouterr()
    for text in (result.output, bad.output, captured.out, captured.err):
        assert PASSWORD not in text
