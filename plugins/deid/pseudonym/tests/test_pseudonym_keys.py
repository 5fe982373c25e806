"""The site key: made on first use, 0600, paths logged and contents never; the certificate alone
encrypts."""

from __future__ import annotations

import stat

import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from gantry.deid import DeidContext
from gantry_pseudonym.action import apply
from gantry_pseudonym.attributes import decrypt_original_attributes
from gantry_pseudonym.errors import PseudonymError
from gantry_pseudonym.keys import KeyPaths, load_certificate, load_private_key, recipient_certificate


def test_first_use_makes_a_3072_bit_key_and_its_certificate_readable_by_the_owner_only(tmp_path, capsys):
    paths = KeyPaths(key=tmp_path / "keys" / "site.key", certificate=tmp_path / "keys" / "site.crt")
    certificate = recipient_certificate(paths)
    private_key = load_private_key(paths.key)
    assert private_key.key_size == 3072
    assert certificate.public_key().public_numbers() == private_key.public_key().public_numbers()
    for path in (paths.key, paths.certificate):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logged = capsys.readouterr().err
    assert str(paths.key) in logged and str(paths.certificate) in logged
    body = b"".join(paths.key.read_bytes().splitlines()[1:-1]).decode()
    assert body[:40] not in logged  # the key's contents never reach the log
    assert recipient_certificate(paths).serial_number == certificate.serial_number  # made once


def test_default_paths_come_from_the_environment_then_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GANTRY_PSEUDONYM_KEY", str(tmp_path / "env.key"))
    assert KeyPaths.from_settings({}) == KeyPaths(tmp_path / "env.key", tmp_path / "env.crt")
    assert KeyPaths.from_settings({"key_file": "a.pem", "cert_file": "b.pem"}).certificate.name == "b.pem"
    monkeypatch.delenv("GANTRY_PSEUDONYM_KEY")
    assert KeyPaths.from_settings(None).key.name == "gantry-pseudonym.key"


def test_encrypting_needs_only_the_certificate(site_key, tmp_path):
    certificate_only = tmp_path / "recipient.crt"
    certificate_only.write_bytes(site_key.paths.certificate.read_bytes())
    settings = {"key_file": str(tmp_path / "kept-elsewhere.key"), "cert_file": str(certificate_only)}
    out = Dataset()
    apply(out, None, DeidContext(sop_instance_uid="1", patient_key="", secret=b"s", settings={"pseudonym": settings},
                                 originals=[DataElement(0x00100010, "PN", "DOE^JANE")]))
    assert not (tmp_path / "kept-elsewhere.key").exists()  # no key was made beside the certificate
    assert decrypt_original_attributes(out, site_key.certificate, site_key.private_key).PatientName == "DOE^JANE"


def test_unreadable_keys_are_clear_errors_that_quote_nothing(tmp_path):
    not_a_key = tmp_path / "x.key"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n")
    with pytest.raises(PseudonymError, match="not an unencrypted PEM private key") as caught:
        load_private_key(not_a_key)
    assert "c2VjcmV0" not in str(caught.value)
    with pytest.raises(PseudonymError, match="cannot read the certificate"):
        load_certificate(tmp_path / "missing.crt")
