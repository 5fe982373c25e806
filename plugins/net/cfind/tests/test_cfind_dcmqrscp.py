"""Our C-FIND SCU against dcmtk's ``dcmqrscp`` (a real Q/R archive), which holds the
``indexed_site`` archive indexed with ``dcmqridx``: the answers must be what our own index says."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from gantry import TransportError
from gantry_dimse.testing import dcmtk, dcmtk_server, free_port

AE_TITLE = "DCMQR"
PATIENT_1 = "PHI-PID-000417"

CONFIG = """\
NetworkTCPPort  = {port}
MaxPDUSize      = 16384
MaxAssociations = 4

HostTable BEGIN
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
{ae}   {storage}   R   (100, 64mb)   ANY
AETable END
"""


@attrs.frozen
class Dcmqrscp:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"dicom://{AE_TITLE}@127.0.0.1:{self.port}?calling=GANTRY"


@pytest.fixture
def dcmqrscp(indexed_site, tmp_path: Path) -> Iterator[Dcmqrscp]:
    storage = tmp_path / "dcmqrscp-db"
    storage.mkdir()
    files = []
    for path in sorted((tmp_path / "archive").glob("*.dcm")):
        files.append(str(shutil.copy(path, storage / path.name)))
    indexed = subprocess.run([dcmtk("dcmqridx"), str(storage), *files], capture_output=True, text=True, timeout=60)
    assert indexed.returncode == 0, indexed.stdout + indexed.stderr
    port = free_port()
    config = tmp_path / "dcmqrscp.cfg"
    config.write_text(CONFIG.format(port=port, ae=AE_TITLE, storage=storage))
    log_path = tmp_path / "dcmqrscp.log"
    with dcmtk_server("dcmqrscp", ["-v", "-c", str(config), str(port)], port, log_path):
        yield Dcmqrscp(port=port, log=log_path)


def find(site, peer: Dcmqrscp, level: str, keys: dict[str, str], model: str = "study") -> list[Any]:
    with site.kernel.open_transport(peer.url) as transport:
        return list(transport.find(level, keys, model=model))


def values(answers, keyword) -> list[str]:
    return sorted(str(answer.get(keyword, "")) for answer in answers)


def expected(site, level, filters, keyword) -> list[str]:
    return sorted(str(row[keyword]) for row in site.query(level, filters))


def test_patient_root_patients_with_wildcards(indexed_site, dcmqrscp):
    everyone = find(indexed_site, dcmqrscp, "patient", {"PatientID": "", "PatientName": ""}, model="patient")
    assert values(everyone, "PatientID") == expected(indexed_site, "patient", {}, "PatientID")
    assert len(everyone) == 3
    # Patient 2's answer comes in UTF-8 (dcmqrscp keeps the file's character set) and is decoded so.
    assert {str(answer.PatientName) for answer in everyone} == {"PLANTED^PATIENT^NAME", "MÜLLER^ANNA",
                                                                 "OTHER^PERSON"}
    others = find(indexed_site, dcmqrscp, "patient", {"PatientID": f"{PATIENT_1}-?", "PatientName": ""},
                  model="patient")
    assert values(others, "PatientID") == [f"{PATIENT_1}-2", f"{PATIENT_1}-3"]
    planted = find(indexed_site, dcmqrscp, "patient", {"PatientName": "PLANTED*", "PatientID": ""}, model="patient")
    assert values(planted, "PatientID") == [PATIENT_1]


@pytest.mark.parametrize(("dates", "expected_dates"), [
    ("20240101-", ["20240315", "20240601"]), ("-20231231", ["20220101", "20231120"]),
    ("20231101-20240331", ["20231120", "20240315"])])
def test_study_root_studies_by_date_range(indexed_site, dcmqrscp, dates, expected_dates):
    answers = find(indexed_site, dcmqrscp, "study", {"StudyDate": dates, "StudyInstanceUID": "",
                                                     "StudyDescription": ""})
    assert values(answers, "StudyDate") == expected_dates
    assert values(answers, "StudyInstanceUID") == expected(indexed_site, "study", {"StudyDate": dates},
                                                          "StudyInstanceUID")
    assert {answer.StudyDescription for answer in answers} == {"Synthetic study"}


def test_series_and_images_of_a_study(indexed_site, dcmqrscp):
    study = indexed_site.query("study", {"PatientID": PATIENT_1, "StudyDate": "20240315"})[0]["StudyInstanceUID"]
    series = find(indexed_site, dcmqrscp, "series", {"StudyInstanceUID": study, "SeriesInstanceUID": "",
                                                     "Modality": "", "SeriesNumber": ""})
    assert values(series, "SeriesInstanceUID") == expected(indexed_site, "series", {"StudyInstanceUID": study},
                                                          "SeriesInstanceUID")
    assert sorted(int(answer.SeriesNumber) for answer in series) == [1, 2] and {a.Modality for a in series} == {"CT"}
    first = next(answer for answer in series if int(answer.SeriesNumber) == 1)
    images = find(indexed_site, dcmqrscp, "instance", {
        "PatientID": PATIENT_1, "StudyInstanceUID": study, "SeriesInstanceUID": str(first.SeriesInstanceUID),
        "SOPInstanceUID": "", "InstanceNumber": ""}, model="patient")
    assert values(images, "SOPInstanceUID") == expected(
        indexed_site, "instance", {"SeriesInstanceUID": str(first.SeriesInstanceUID)}, "SOPInstanceUID")
    assert sorted(int(answer.InstanceNumber) for answer in images) == [1, 2]


def test_a_called_ae_dcmqrscp_does_not_serve_is_rejected(indexed_site, dcmqrscp):
    url = dcmqrscp.url.replace(f"{AE_TITLE}@", "NOTHERE@") + "&retries=0"
    with indexed_site.kernel.open_transport(url) as transport, pytest.raises(TransportError, match="ejected"):
        list(transport.find("study", {"StudyInstanceUID": ""}))

