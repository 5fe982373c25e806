"""Authentication against a real Orthanc with AuthenticationEnabled: credentials from the URL or
the [orthanc] settings work, wrong ones fail with a clear error, and no password is ever shown."""

from __future__ import annotations

import pytest

from gantry import TransportError
from gantry_orthanc.client import AuthenticationFailed

PASSWORD = "s3cr3t-Pa55"


@pytest.fixture
def secured(dedicated_orthanc):
    return dedicated_orthanc(AuthenticationEnabled=True, RegisteredUsers={"alice": PASSWORD})


def test_credentials_in_the_url_work_and_are_masked(make_kernel, secured, corpus):
    url = f"orthanc+http://alice:{PASSWORD}@127.0.0.1:{secured.http_port}"
    kernel = make_kernel(discover=True)
    with kernel.open_transport(url) as peer:
        assert PASSWORD not in peer.url and PASSWORD not in repr(peer) and "alice:***@" in peer.url
        assert peer.echo().ok
        results = list(peer.store([corpus.folder]))
        assert len(results) == 6 and all(result.ok for result in results)
        assert len(list(peer.find("instance", {}))) == 6


def test_credentials_from_settings_work(make_kernel, secured):
    kernel = make_kernel(config={"orthanc": {"username": "alice", "password": PASSWORD}}, discover=True)
    with kernel.open_transport(f"orthanc+http://127.0.0.1:{secured.http_port}") as peer:
        assert peer.echo().ok
        assert PASSWORD not in repr(peer.settings)


def test_password_from_the_environment(make_kernel, secured, monkeypatch):
    monkeypatch.setenv("GANTRY_ORTHANC_PASSWORD", PASSWORD)
    kernel = make_kernel(config={"orthanc": {"username": "alice"}}, discover=True)
    with kernel.open_transport(f"orthanc+http://127.0.0.1:{secured.http_port}") as peer:
        assert peer.echo().ok


def test_wrong_or_missing_credentials_fail_clearly_without_retries(make_kernel, secured, monkeypatch):
    import gantry.resilience

    waits: list[float] = []
    monkeypatch.setattr(gantry.resilience, "sleep", waits.append)
    monkeypatch.delenv("GANTRY_ORTHANC_PASSWORD", raising=False)
    kernel = make_kernel(discover=True)
    wrong = f"orthanc+http://alice:not-{PASSWORD}@127.0.0.1:{secured.http_port}"
    with kernel.open_transport(wrong) as peer, pytest.raises(AuthenticationFailed) as caught:
        peer.echo()
    message = str(caught.value)
    assert "authentication failed (HTTP 401" in message and "user 'alice' or its password was refused" in message
    assert PASSWORD not in message and "alice:***@" in message
    with kernel.open_transport(f"orthanc+http://127.0.0.1:{secured.http_port}") as peer:
        with pytest.raises(TransportError, match="credentials are needed"):
            list(peer.find("study", {}))
    assert waits == []  # a refusal is an answer: not retried, and the breaker stays closed
    with kernel.open_transport(wrong) as peer, pytest.raises(AuthenticationFailed):
        peer.echo()


def test_cli_shows_the_auth_error_with_the_password_masked(secured, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gantry.cli import make_app

    monkeypatch.chdir(tmp_path)
    url = f"orthanc+http://alice:wrong-{PASSWORD}@127.0.0.1:{secured.http_port}"
    result = CliRunner().invoke(make_app(), ["find", url, "-k", "PatientID=*"])
    assert result.exit_code == 1
    assert "authentication failed" in result.output and PASSWORD not in result.output
