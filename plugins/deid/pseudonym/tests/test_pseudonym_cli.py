"""``gantry deid-recover`` on a folder: one file it recovers, one without the sequence and one
encrypted for another key, each reported with its reason; the batch goes on; exit status 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from gantry.cli import make_app
from gantry.testing.datasets import make_dataset, write_dataset
from gantry_deid import encode_part10
from gantry_pseudonym.errors import PseudonymError


@pytest.fixture
def mixed_folder(tmp_path, pseudonymise, site_key, other_key) -> Path:
    folder = tmp_path / "shared" / "study"
    folder.mkdir(parents=True)
    (folder / "good.dcm").write_bytes(encode_part10(pseudonymise(make_dataset(instance=1), site_key)[0]))
    (folder / "sub").mkdir()
    (folder / "sub" / "other-key.dcm").write_bytes(encode_part10(pseudonymise(make_dataset(instance=2), other_key)[0]))
    write_dataset(make_dataset(instance=3), folder / "plain.dcm")
    return tmp_path / "shared"


def _recover(*args: str):
    return CliRunner().invoke(make_app(), ["deid-recover", *args])


def test_each_file_is_recovered_or_reported_and_the_batch_goes_on(mixed_folder, tmp_path, site_key):
    before = {path: path.read_bytes() for path in mixed_folder.rglob("*.dcm")}
    out = tmp_path / "recovered"
    result = _recover(str(mixed_folder), str(out), "--key", str(site_key.paths.key))
    assert result.exit_code == 1, result.output
    assert "1 recovered, 2 not recovered" in result.stdout
    assert "plain.dcm: no Encrypted Attributes Sequence" in result.stderr
    assert "other-key.dcm: item 0: encrypted for another key" in result.stderr
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*")) == ["study", "study/good.dcm"]
    recovered = pydicom.dcmread(out / "study" / "good.dcm")
    source = make_dataset(instance=1)
    assert (recovered.PatientName, recovered.SOPInstanceUID) == (source.PatientName, source.SOPInstanceUID)
    assert {path: path.read_bytes() for path in mixed_folder.rglob("*.dcm")} == before  # inputs untouched


def test_all_recovered_is_exit_status_0(mixed_folder, tmp_path, site_key):
    result = _recover(str(mixed_folder / "study" / "good.dcm"), str(tmp_path / "out"), "--key", str(site_key.paths.key))
    assert result.exit_code == 0 and "1 recovered, 0 not recovered" in result.stdout


def test_without_the_key_nothing_is_recovered(mixed_folder, tmp_path, site_key):
    certificate_only = tmp_path / "public"
    certificate_only.mkdir()
    shutil.copy(site_key.paths.certificate, certificate_only / "site.crt")
    result = _recover(str(mixed_folder), str(tmp_path / "out"), "--key", str(certificate_only / "site.key"))
    assert isinstance(result.exception, PseudonymError) and "cannot read the private key" in str(result.exception)
    assert not (certificate_only / "site.key").exists()  # recovery never makes a key
    assert not (tmp_path / "out").exists()
