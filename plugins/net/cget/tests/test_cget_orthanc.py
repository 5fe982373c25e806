"""Our C-GET SCU against a real Orthanc's C-GET SCP (the session's ``orthanc_server``, Orthanc 1.10),
which holds the ``indexed_site`` archive: every instance must come back byte-equal.

Orthanc 1.10 has no C-GET *SCU* (its REST API has no ``/modalities/{id}/get``, added in a later
Orthanc), so Orthanc retrieving from our C-GET SCP is not tested here; dcmtk's getscu does that in
test_cget_scp.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from click.testing import CliRunner

from gantry import TransportError
from gantry.cli import make_app

CALLING = "GANTRYGET"


@pytest.fixture
def orthanc(orthanc_server, indexed_site) -> Iterator[Any]:
    """The session's Orthanc holding exactly the archive, knowing our calling AE (Orthanc 1.10 serves
    C-GET only to configured modalities unless DicomAlwaysAllowGet)."""
    orthanc_server.clear()
    for path in sorted(indexed_site.folder.glob("*.dcm")):
        orthanc_server.upload(path.read_bytes())
    orthanc_server.add_modality("gantry-get-scu", CALLING, 104)
    yield orthanc_server
    orthanc_server.rest("DELETE", "/modalities/gantry-get-scu")


def get(site, orthanc, level, keys, out: Path, model="study") -> list[Any]:
    store = site.kernel.open_instance_store(str(out))
    with site.kernel.open_transport(f"{orthanc.dicom_url}?calling={CALLING}") as peer:
        return list(peer.retrieve(level, keys, into=store, model=model))


def check_byte_equal(site, received, filters) -> None:
    originals = {row["SOPInstanceUID"]: row["location"] for row in site.query("instance", filters)}
    assert {result.sop_instance_uid for result in received} == set(originals)
    for result in received:
        assert result.ok and result.status == 0, result
        got, sent = pydicom.dcmread(result.location), pydicom.dcmread(originals[result.sop_instance_uid])
        assert got.SOPInstanceUID == sent.SOPInstanceUID and got.StudyInstanceUID == sent.StudyInstanceUID
        assert got.PixelData == sent.PixelData


def test_study_get_from_orthanc(indexed_site, orthanc, tmp_path):
    study = indexed_site.study_uids()[0]
    *received, final = get(indexed_site, orthanc, "study", {"StudyInstanceUID": study}, tmp_path / "out")
    assert (final.ok, final.status, final.completed, final.failed, final.warning) == (True, 0, 3, 0, 0)
    assert final.reason == "status 0x0000 (Success)"
    check_byte_equal(indexed_site, received, {"StudyInstanceUID": study})
    assert all(Path(result.location).is_relative_to(tmp_path / "out") for result in received)


def test_series_instance_and_patient_level_gets_on_one_association(indexed_site, orthanc, tmp_path):
    study = indexed_site.study_uids()[0]
    rows = indexed_site.query("instance", {"StudyInstanceUID": study})
    series = sorted({row["SeriesInstanceUID"] for row in rows})
    one = next(row for row in rows if row["SeriesInstanceUID"] == series[0])
    store = indexed_site.kernel.open_instance_store(str(tmp_path / "out"))
    with indexed_site.kernel.open_transport(f"{orthanc.dicom_url}?calling={CALLING}") as peer:
        by_series = list(peer.retrieve("series", {"StudyInstanceUID": study, "SeriesInstanceUID": series[0]},
                                       into=store))
        by_instance = list(peer.retrieve("instance", {"StudyInstanceUID": study, "SeriesInstanceUID": series[0],
                                                      "SOPInstanceUID": one["SOPInstanceUID"]}, into=store))
        by_patient = list(peer.retrieve("patient", {"PatientID": one["PatientID"]}, into=store, model="patient"))
        opened = peer.pool.opened
    assert opened == 2  # one Study Root association for the first two, one Patient Root
    check_byte_equal(indexed_site, by_series[:-1], {"SeriesInstanceUID": series[0]})
    assert by_series[-1].completed == len(by_series) - 1 == 2
    check_byte_equal(indexed_site, by_instance[:-1], {"SOPInstanceUID": one["SOPInstanceUID"]})
    check_byte_equal(indexed_site, by_patient[:-1], {"PatientID": one["PatientID"]})
    assert (by_patient[-1].completed, by_patient[-1].failed) == (4, 0)


def test_a_study_orthanc_does_not_hold_is_its_failure_status(indexed_site, orthanc, tmp_path):
    # Orthanc answers 0xC000 ("C-GET: Cannot locate resource") where our SCP answers zero and success.
    with pytest.raises(TransportError, match=r"C-GET failed: status 0xC000 \(Unable to Process\)"):
        get(indexed_site, orthanc, "study", {"StudyInstanceUID": "1.2.3.999"}, tmp_path / "out")
    assert not any(path.is_file() for path in (tmp_path / "out").rglob("*"))


def test_gantry_get_cli_from_orthanc(indexed_site, orthanc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    study = indexed_site.study_uids()[1]
    out = tmp_path / "cli-out"
    result = CliRunner().invoke(make_app(), ["get", f"{orthanc.dicom_url}?calling={CALLING}", str(out),
                                             "-k", f"StudyInstanceUID={study}", "--json"])
    assert result.exit_code == 0, result.output
    *instances, summary = [json.loads(line) for line in result.output.strip().splitlines()]
    assert (summary["received"], summary["failed"], summary["ok"]) == (1, 0, True)
    [row] = indexed_site.query("instance", {"StudyInstanceUID": study})
    assert [entry["sop_instance_uid"] for entry in instances] == [row["SOPInstanceUID"]]
    assert pydicom.dcmread(instances[0]["location"]).PixelData == pydicom.dcmread(row["location"]).PixelData


def test_orthanc_refuses_a_get_from_an_unknown_calling_ae(indexed_site, orthanc, tmp_path):
    store = indexed_site.kernel.open_instance_store(str(tmp_path / "out"))
    with indexed_site.kernel.open_transport(f"{orthanc.dicom_url}?calling=STRANGER") as peer, \
            pytest.raises(TransportError, match="no C-GET response"):
        # Orthanc accepts the association, then drops it at the request without answering.
        list(peer.retrieve("study", {"StudyInstanceUID": indexed_site.study_uids()[0]}, into=store))


def test_a_compressed_instance_comes_in_its_stored_syntax(indexed_site, orthanc, tmp_path):
    # We offer CT in RLE too (gantry_cget.models): Orthanc sends its RLE copy as it is.
    from gantry.testing.datasets import make_dataset, write_dataset
    from gantry.uids import RLE_LOSSLESS
    from gantry_transcode.transcode import transcode_file

    dataset = make_dataset(patient=7, study=7, rows=32, columns=32)
    plain = write_dataset(dataset, tmp_path / "plain.dcm")
    assert transcode_file(indexed_site.kernel, plain, tmp_path / "rle.dcm", RLE_LOSSLESS).ok
    orthanc.upload((tmp_path / "rle.dcm").read_bytes())
    [received, final] = get(indexed_site, orthanc, "study", {"StudyInstanceUID": str(dataset.StudyInstanceUID)},
                            tmp_path / "out")
    assert (received.ok, received.sop_instance_uid, final.completed, final.failed) == (
        True, str(dataset.SOPInstanceUID), 1, 0)
    got = pydicom.dcmread(received.location)
    assert got.file_meta.TransferSyntaxUID == RLE_LOSSLESS
    assert got.PixelData == pydicom.dcmread(tmp_path / "rle.dcm").PixelData  # the RLE fragments, byte for byte
