"""Interoperability with GDCM's gdcmanon, which implements PS3.15 E.1.2 with OpenSSL's CMS:
it re-identifies our output, and we re-identify its."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

from gantry.testing.datasets import make_dataset, write_dataset
from gantry_deid import encode_part10
from gantry_pseudonym import recover_dataset

pytestmark = pytest.mark.slow

GDCMANON = shutil.which("gdcmanon")


@pytest.fixture(autouse=True)
def _needs_gdcmanon() -> None:
    if GDCMANON is None:
        pytest.fail("gdcmanon is not installed: `make test` installs the Debian package 'libgdcm-tools'")


def _gdcmanon(*args: str) -> None:
    subprocess.run([GDCMANON, *args], check=True, capture_output=True, timeout=60)


def test_gdcmanon_recovers_our_output(pseudonymise, site_key, tmp_path):
    source = make_dataset()
    (tmp_path / "ours.dcm").write_bytes(encode_part10(pseudonymise(source, site_key)[0]))
    _gdcmanon("-d", "-k", str(site_key.paths.key), "-c", str(site_key.paths.certificate),
              "-i", str(tmp_path / "ours.dcm"), "-o", str(tmp_path / "back.dcm"))
    back = pydicom.dcmread(tmp_path / "back.dcm")
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyDate", "StudyInstanceUID", "SOPInstanceUID"):
        assert back[keyword].value == source[keyword].value, keyword


def test_we_recover_gdcmanons_output(site_key, tmp_path):
    source = make_dataset()
    write_dataset(source, tmp_path / "source.dcm")
    _gdcmanon("-e", "-c", str(site_key.paths.certificate), "-i", str(tmp_path / "source.dcm"),
              "-o", str(tmp_path / "theirs.dcm"))
    theirs = pydicom.dcmread(tmp_path / "theirs.dcm")
    assert theirs.PatientName != source.PatientName
    restored = recover_dataset(theirs, site_key.certificate, site_key.private_key)
    for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "SOPInstanceUID"):
        assert restored[keyword].value == source[keyword].value, keyword
