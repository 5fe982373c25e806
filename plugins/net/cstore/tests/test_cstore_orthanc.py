"""C-STORE both ways with a real Orthanc (the session's ``orthanc_server``, Orthanc 1.10): our SCU
(the transport and ``gantry send``) into Orthanc, and Orthanc's C-STORE SCU into our listener."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pydicom
from click.testing import CliRunner

from gantry.cli import make_app
from gantry.uids import RLE_LOSSLESS


def orthanc_instances(orthanc) -> dict[str, pydicom.Dataset]:
    """SOP Instance UID -> the file Orthanc stored, read back through its REST API."""
    stored = {}
    for instance_id in orthanc.rest("GET", "/instances"):
        dataset = pydicom.dcmread(BytesIO(orthanc.rest("GET", f"/instances/{instance_id}/file")))
        stored[str(dataset.SOPInstanceUID)] = dataset
    return stored


def originals(folder: Path) -> dict[str, pydicom.Dataset]:
    datasets = [pydicom.dcmread(path) for path in folder.rglob("*.dcm")]
    return {str(dataset.SOPInstanceUID): dataset for dataset in datasets}


def test_the_transport_stores_every_syntax_into_orthanc_as_it_is(installed_kernel, orthanc_server, ct_folder):
    orthanc_server.clear()
    with installed_kernel.open_transport(f"{orthanc_server.dicom_url}?calling=GANTRY") as orthanc:
        results = list(orthanc.store([ct_folder.path]))
        opened = orthanc.pool.opened
    assert [(result.ok, result.status, result.reason) for result in results] == [(True, 0, "")] * 6, results
    assert {result.sop_instance_uid: result.transfer_syntax_uid for result in results} == ct_folder.files
    assert opened == 1  # one association for the batch
    stored, sent = orthanc_instances(orthanc_server), originals(ct_folder.path)
    assert set(stored) == set(ct_folder.files)
    assert RLE_LOSSLESS in {dataset.file_meta.TransferSyntaxUID for dataset in stored.values()}
    for uid, dataset in stored.items():
        assert dataset.file_meta.TransferSyntaxUID == ct_folder.files[uid]  # Orthanc accepted RLE: no transcode
        assert dataset.PixelData == sent[uid].PixelData  # RLE fragments too, byte for byte
        assert dataset.PatientID == sent[uid].PatientID and dataset.Rows == 32
    statistics = orthanc_server.rest("GET", "/statistics")
    assert (statistics["CountPatients"], statistics["CountStudies"], statistics["CountSeries"],
            statistics["CountInstances"]) == (1, 1, 1, 6)


def test_gantry_send_into_orthanc(orthanc_server, ct_folder, tmp_path, monkeypatch):
    orthanc_server.clear()
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    (ct_folder.path / "readme.txt").write_text("clutter")
    result = CliRunner().invoke(make_app(), ["send", f"{orthanc_server.dicom_url}?calling=GANTRY",
                                             str(ct_folder.path), "--json"])
    assert result.exit_code == 1, result.output  # the clutter failed
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    files, summary = lines[:-1], lines[-1]
    assert (summary["sent"], summary["failed"], summary["error"]) == (6, 1, None)
    assert sorted(entry["sop_instance_uid"] for entry in files if entry["ok"]) == sorted(ct_folder.files)
    stored = orthanc_instances(orthanc_server)
    assert set(stored) == set(ct_folder.files)
    for uid, dataset in stored.items():
        assert dataset.PixelData == originals(ct_folder.path)[uid].PixelData


def test_sending_again_is_accepted_and_stores_nothing_twice(installed_kernel, orthanc_server, ct_folder):
    orthanc_server.clear()
    url = f"{orthanc_server.dicom_url}?calling=GANTRY"
    for _ in range(2):
        with installed_kernel.open_transport(url) as orthanc:
            assert all(result.ok for result in orthanc.store([ct_folder.path]))
    assert orthanc_server.rest("GET", "/statistics")["CountInstances"] == 6


def test_orthanc_stores_a_study_into_our_listener(site, our_listener, orthanc_server, ct_folder):
    orthanc_server.clear()
    sent = originals(ct_folder.path)
    studies = {orthanc_server.upload(path.read_bytes())["ParentStudy"] for path in ct_folder.path.rglob("*.dcm")}
    assert len(studies) == 1
    ours = our_listener(site.kernel, "OURSTORE", allow=("ORTHANC",))
    orthanc_server.add_modality("gantry-store", "OURSTORE", ours.port)
    try:
        job = orthanc_server.rest("POST", "/modalities/gantry-store/store",
                                  {"Resources": sorted(studies), "Synchronous": True})
    finally:
        orthanc_server.rest("DELETE", "/modalities/gantry-store")
    assert (job["InstancesCount"], job["FailedInstancesCount"]) == (6, 0), job
    assert ours.accepted == 1
    ours.stop()
    backend = site.kernel.open_storage(site.database)
    try:
        rows = backend.query("instance")
        audit = [row.event for row in backend.audit_rows()]
    finally:
        backend.close()
    assert sorted(row["SOPInstanceUID"] for row in rows) == sorted(ct_folder.files)
    assert {event.actor for event in audit} == {"dicom:ORTHANC"} and len(audit) == 6
    for row in rows:
        assert Path(row["location"]).is_relative_to(site.store)
        received = pydicom.dcmread(row["location"])
        uid = str(received.SOPInstanceUID)
        assert received.PixelData == sent[uid].PixelData  # as Orthanc sent it, never re-encoded
        if ct_folder.files[uid] == RLE_LOSSLESS:  # we accept RLE: Orthanc sends it as it is
            assert row["transfer_syntax_uid"] == RLE_LOSSLESS
        assert row["PatientID"] == str(sent[uid].PatientID) and row["Rows"] == 32


def test_an_orthanc_refusing_rle_gets_a_lossless_transcode(installed_kernel, ct_folder):
    from gantry.testing.orthanc import OrthancServer
    from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN

    with OrthancServer.start(dicomweb=False, extra={"RleTransferSyntaxAccepted": False}) as strict:
        with installed_kernel.open_transport(f"{strict.dicom_url}?calling=GANTRY") as orthanc:
            results = list(orthanc.store([ct_folder.path]))
        stored = orthanc_instances(strict)
    assert all(result.ok for result in results), results
    for result in results:
        if ct_folder.files[result.sop_instance_uid] == RLE_LOSSLESS:
            assert result.reason.startswith("transcoded from rle to explicit-little"), result
            assert result.transfer_syntax_uid == EXPLICIT_VR_LITTLE_ENDIAN
        else:
            assert result.reason == ""
    assert set(stored) == set(ct_folder.files)
    for uid, dataset in stored.items():
        assert dataset.PixelData == ct_folder.native_pixels[uid]  # decoded exactly: lossless
        assert dataset.file_meta.TransferSyntaxUID != RLE_LOSSLESS
