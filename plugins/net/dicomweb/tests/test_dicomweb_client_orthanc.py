"""The dicomweb+http transport against a real Orthanc 1.10 with its DICOMweb plugin:
STOW-RS in, QIDO-RS at every level, WADO-RS out byte for byte, frames, metadata, bulk data,
rendered, retrieve into an instance store."""

from __future__ import annotations

import os
from typing import Any

import pydicom
import pytest

from gantry import TransportError
from gantry.testing.datasets import make_dataset
from gantry.testing.fixtures import kernel_with

from gantry_dicomweb.testing import STUDY, dicomweb_url

STUDY_UID = make_dataset(study=1).StudyInstanceUID


@pytest.fixture
def kernel() -> Any:
    return kernel_with(discover=True)


@pytest.fixture
def stored(orthanc: Any, study_files: list[str], kernel: Any) -> Any:
    """Orthanc holding ``study_files``, sent with our STOW-RS; the open adapter."""
    peer = kernel.open_transport(dicomweb_url(orthanc))
    results = list(peer.store(study_files))
    assert [result.ok for result in results] == [True] * len(study_files), results
    yield peer
    peer.close()


def uid_of(path: str, keyword: str = "SOPInstanceUID") -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).get(keyword))


def test_echo_is_a_cheap_qido_that_answers(orthanc, kernel):
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        result = peer.echo()
    assert result.ok and result.status == 200 and result.seconds > 0


def test_stow_reports_each_file_and_orthanc_holds_them(orthanc, study_files, kernel):
    seen: list[tuple[int, int]] = []
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        results = list(peer.store([os.path.dirname(study_files[0])], progress=lambda done, total: seen.append((done, total))))
    assert [result.source for result in results] == sorted(study_files)
    assert all(result.ok and result.status == 0 for result in results)
    assert {result.sop_instance_uid for result in results} == {uid_of(path) for path in study_files}
    assert seen[-1] == (5, 5) and len(seen) == 5
    assert len(orthanc.rest("GET", "/instances")) == 5


def test_stow_in_several_batches_and_in_parallel(orthanc, study_files, kernel, monkeypatch):
    from gantry_dicomweb.transport import open_transport

    peer = open_transport(dicomweb_url(orthanc), {"stow_batch_files": 2}, kernel=kernel)
    with peer:
        results = list(peer.store(study_files, associations=2))
    assert [result.source for result in results] == study_files
    assert all(result.ok for result in results)
    assert len(orthanc.rest("GET", "/instances")) == 5


def test_stow_failures_come_from_the_servers_answer(orthanc, study_files, kernel, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not DICOM")
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        # Posting to another study's resource: Orthanc refuses each instance (FailedSOPSequence).
        refused = list(peer.store(study_files[:2] + [str(junk)], study_uid="1.2.3.4"))
    assert [result.ok for result in refused] == [False, False, False]
    assert refused[0].status == 0x0110 and "HTTP 409" in refused[0].reason
    assert refused[2].reason == "not a DICOM file"
    assert orthanc.rest("GET", "/instances") == []


def test_fail_fast_stops_at_the_first_failed_file(orthanc, study_files, kernel, tmp_path):
    junk = tmp_path / "a-junk.dcm"
    junk.write_bytes(b"nothing")
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        results = list(peer.store([str(junk), *study_files], continue_on_error=False))
    assert len(results) == 1 and not results[0].ok


def test_stow_of_datasets_and_index_rows(orthanc, kernel, tmp_path):
    from gantry.testing.datasets import write_dataset

    dataset = make_dataset(study=3, instance=1, rows=4, columns=4)
    path = write_dataset(make_dataset(study=3, instance=2, rows=4, columns=4), tmp_path / "x.dcm")
    row = {"location": path, "SOPInstanceUID": uid_of(path)}
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        results = list(peer.store([dataset, row]))
    assert [result.ok for result in results] == [True, True]
    assert results[0].sop_instance_uid == dataset.SOPInstanceUID
    assert len(orthanc.rest("GET", "/instances")) == 2


def test_qido_each_level_with_matching(stored):
    studies = list(stored.find("study", {"PatientID": "PHI-PID-*", "StudyDate": "20240101-20241231"}))
    assert [str(study.StudyInstanceUID) for study in studies] == [STUDY_UID]
    assert isinstance(studies[0], pydicom.Dataset) and str(studies[0].PatientName) == "PLANTED^PATIENT^NAME"
    assert list(stored.find("study", {"PatientID": "NOBODY"})) == []
    series = list(stored.find("series", {"StudyInstanceUID": STUDY_UID, "SeriesInstanceUID": "",
                                         "NumberOfSeriesRelatedInstances": ""}))
    assert sorted(int(item.NumberOfSeriesRelatedInstances) for item in series) == [2, 3]
    instances = list(stored.find("instance", {"StudyInstanceUID": STUDY_UID, "SeriesInstanceUID":
                                              str(series[0].SeriesInstanceUID), "SOPInstanceUID": ""}))
    assert len(instances) in (2, 3)
    everywhere = list(stored.find("instance", {"Modality": "CT"}))  # /instances, no study named
    assert len(everywhere) == len(STUDY)
    patients = list(stored.find("patient", {"PatientID": "*"}, model="patient"))
    assert [str(patient.PatientID) for patient in patients] == ["PHI-PID-000417"]


def test_qido_uid_lists_and_sequences_of_keywords(stored, study_files):
    wanted = [uid_of(path) for path in study_files[:2]]
    found = list(stored.find("instance", {"SOPInstanceUID": "\\".join(wanted)}))
    assert sorted(str(item.SOPInstanceUID) for item in found) == sorted(wanted)


def test_qido_includefield_returns_the_asked_attribute(stored):
    # Orthanc answers a study query without StudyDescription or Manufacturer unless asked.
    plain = list(stored.find("study", {"StudyInstanceUID": STUDY_UID}))
    assert "StudyDescription" not in plain[0] and "PatientAge" not in plain[0]
    asked = list(stored.find("study", {"StudyInstanceUID": STUDY_UID, "StudyDescription": ""}))
    assert str(asked[0].StudyDescription) == "Synthetic study"
    by_option = list(stored.find("study", {"StudyInstanceUID": STUDY_UID}, include_fields=["00101010"]))
    assert str(by_option[0].PatientAge) == "062Y"


def test_qido_limit_offset_and_paging(stored, kernel, orthanc):
    from gantry_dicomweb.transport import open_transport

    every = [str(item.SOPInstanceUID) for item in stored.find("instance", {"StudyInstanceUID": STUDY_UID})]
    assert len(every) == 5
    assert len(list(stored.find("instance", {"StudyInstanceUID": STUDY_UID}, limit=2))) == 2
    skipped = [str(item.SOPInstanceUID) for item in stored.find("instance", {"StudyInstanceUID": STUDY_UID}, offset=3)]
    assert skipped == every[3:]
    # A page of two: three requests (offset 0, 2, 4), every instance once, in the server's order.
    requests: list[str] = []
    paged = open_transport(dicomweb_url(orthanc) + "?page_size=2", kernel=kernel)
    paged.client.http.event_hooks["request"].append(lambda request: requests.append(str(request.url)))
    with paged:
        uids = [str(item.SOPInstanceUID) for item in paged.find("instance", {"StudyInstanceUID": STUDY_UID})]
    assert uids == every
    assert [url.rsplit("offset=", 1)[1] for url in requests] == ["0", "2", "4"]
    assert all("limit=2" in url for url in requests)
    raw = stored.qido(f"studies/{STUDY_UID}/instances", [("limit", "1"), ("offset", "1")])
    assert len(raw) == 1 and raw[0]["00080018"]["Value"] == [every[1]]


def test_fuzzymatching_is_sent_and_accepted(stored):
    found = list(stored.find("study", {"PatientName": "planted*"}, fuzzy=True))
    assert [str(item.StudyInstanceUID) for item in found] == [STUDY_UID]


def test_wado_instances_come_back_byte_for_byte(stored, study_files):
    series_uid = uid_of(study_files[0], "SeriesInstanceUID")
    originals = {uid_of(path): open(path, "rb").read() for path in study_files}
    received = {}
    for path in stored.instances(STUDY_UID):
        received[uid_of(path)] = open(path, "rb").read()
    assert received == originals
    in_series = [uid_of(path) for path in stored.instances(STUDY_UID, series_uid)]
    assert sorted(in_series) == sorted(uid_of(path) for path in study_files[:3])
    one = study_files[1]
    assert [open(path, "rb").read() for path in stored.instances(STUDY_UID, series_uid, uid_of(one))] == \
        [open(one, "rb").read()]


def test_retrieve_into_a_folder_stores_durably(stored, study_files, tmp_path):
    out = tmp_path / "out"
    results = list(stored.retrieve("study", {"StudyInstanceUID": STUDY_UID}, into=str(out)))
    *instances, final = results
    assert final.sop_instance_uid == "" and final.ok and (final.completed, final.failed) == (5, 0)
    originals = {uid_of(path): open(path, "rb").read() for path in study_files}
    assert {result.sop_instance_uid for result in instances} == set(originals)
    for result in instances:
        assert result.ok and result.location.startswith(str(out))
        assert open(result.location, "rb").read() == originals[result.sop_instance_uid]


def test_retrieve_by_other_keys_resolves_with_qido(stored, kernel, tmp_path):
    store = kernel.open_instance_store(str(tmp_path / "store"))
    results = list(stored.retrieve("series", {"PatientID": "PHI-PID-000417", "SeriesNumber": "2"}, into=store))
    *instances, final = results
    assert len(instances) == 2 and final.completed == 2
    assert all(store.locate(study_uid=STUDY_UID, series_uid=make_dataset(series=2).SeriesInstanceUID,
                            sop_uid=result.sop_instance_uid) for result in instances)
    nothing = list(stored.retrieve("study", {"StudyInstanceUID": "1.2.3.999"}, into=store))
    assert len(nothing) == 1 and nothing[0].ok and nothing[0].completed == 0


def test_retrieve_refuses_a_move_destination(stored, tmp_path):
    with pytest.raises(TransportError, match="no C-MOVE"):
        stored.retrieve("study", {"StudyInstanceUID": STUDY_UID}, destination="OTHERAE")


def test_frames_as_stored(stored, study_files):
    source = pydicom.dcmread(study_files[0])
    assert int(source.NumberOfFrames) == 2
    frames = stored.frames(STUDY_UID, str(source.SeriesInstanceUID), str(source.SOPInstanceUID), [1, 2])
    size = len(source.PixelData) // 2
    assert frames == [source.PixelData[:size], source.PixelData[size:]]
    assert stored.frames(STUDY_UID, str(source.SeriesInstanceUID), str(source.SOPInstanceUID), [2]) == \
        [source.PixelData[size:]]


def test_metadata_with_bulk_data_uris(stored, study_files):
    source = pydicom.dcmread(study_files[0])
    series, instance = str(source.SeriesInstanceUID), str(source.SOPInstanceUID)
    raw = stored.metadata_json(STUDY_UID, series, instance)
    assert len(raw) == 1 and "BulkDataURI" in raw[0]["7FE00010"]
    lazy = stored.metadata(STUDY_UID, series, instance)[0]
    assert str(lazy.PatientID) == "PHI-PID-000417" and not lazy.PixelData
    eager = stored.metadata(STUDY_UID, series, instance, bulkdata=True)[0]
    assert eager.PixelData == source.PixelData
    assert stored.bulkdata(raw[0]["7FE00010"]["BulkDataURI"]) == source.PixelData
    assert len(stored.metadata(STUDY_UID)) == len(STUDY)


def test_rendered_is_an_image(stored, study_files):
    source = pydicom.dcmread(study_files[1])
    kind, data = stored.rendered(STUDY_UID, str(source.SeriesInstanceUID), str(source.SOPInstanceUID))
    assert kind.startswith("image/png") and data.startswith(b"\x89PNG\r\n\x1a\n")


def test_unknown_resources_are_transport_errors(stored):
    with pytest.raises(TransportError, match="404"):
        stored.metadata_json("1.2.3.999")
    with pytest.raises(TransportError, match="unknown DICOM keyword"):
        list(stored.find("study", {"NoSuchKeyword": "x"}))


def test_compressed_frames_as_stored_or_decoded(orthanc, kernel, tmp_path):
    from pydicom.encaps import generate_frames
    from pydicom.uid import RLELossless

    dataset = make_dataset(study=4, frames=3, rows=16, columns=16)
    decoded = dataset.PixelData
    dataset.compress(RLELossless, encoding_plugin="pydicom")
    path = str(tmp_path / "rle.dcm")
    dataset.save_as(path, enforce_file_format=True)
    encapsulated = list(generate_frames(pydicom.dcmread(path).PixelData, number_of_frames=3))
    uids = (str(dataset.StudyInstanceUID), str(dataset.SeriesInstanceUID), str(dataset.SOPInstanceUID))
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        assert all(result.ok for result in peer.store([path]))
        stored = peer.frame_parts(*uids, [1, 3])
        assert [body for _kind, body in stored] == [encapsulated[0], encapsulated[2]]
        assert all(kind.startswith("image/dicom-rle") for kind, _body in stored)
        as_rle = peer.frames(*uids, [2], media_type='multipart/related; type="image/dicom-rle"')
        assert as_rle == [encapsulated[1]]
        plain = peer.frame_parts(*uids, [2], media_type='multipart/related; type="application/octet-stream"')
        frame_size = len(decoded) // 3
        assert plain[0][1] == decoded[frame_size:2 * frame_size]
        assert plain[0][0].startswith("application/octet-stream")


def test_a_connection_orthanc_closed_while_idle_is_replaced(orthanc, kernel, waits):
    import time

    with kernel.open_transport(dicomweb_url(orthanc) + "?retries=0") as peer:
        assert peer.echo().ok
        time.sleep(2.5)  # Orthanc answers with "Keep-Alive: timeout=1" and closes idle connections
        assert peer.echo().ok and list(peer.find("study", {"PatientID": "NOBODY"})) == []
    assert waits == []


def test_an_instance_the_store_refuses_is_a_failed_result(stored, study_files, kernel, tmp_path):
    store = kernel.open_instance_store(str(tmp_path / "store"))
    clash = pydicom.dcmread(study_files[2])
    clash.InstanceNumber = 99  # other bytes under the same SOP Instance UID
    other = tmp_path / "other.dcm"
    clash.save_as(str(other), enforce_file_format=True)
    store.put_file(str(other), study_uid=STUDY_UID, series_uid=str(clash.SeriesInstanceUID),
                   sop_uid=str(clash.SOPInstanceUID))
    *instances, final = stored.retrieve("study", {"StudyInstanceUID": STUDY_UID}, into=store)
    refused = [result for result in instances if not result.ok]
    assert [result.sop_instance_uid for result in refused] == [str(clash.SOPInstanceUID)]
    assert refused[0].status == 0xC000
    assert (final.ok, final.status, final.completed, final.failed) == (False, 0xB000, 4, 1)


def test_large_instances_stream_both_ways(orthanc, kernel, tmp_path):
    import tracemalloc

    from gantry.testing.datasets import write_dataset

    big = make_dataset(study=5, rows=1024, columns=1024, frames=16)  # 32 MiB of pixels
    path = write_dataset(big, tmp_path / "big.dcm")
    size = os.path.getsize(path)
    del big
    with kernel.open_transport(dicomweb_url(orthanc)) as peer:
        tracemalloc.start()
        try:
            results = list(peer.store([path]))
            sent_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            out = tmp_path / "out"
            *received, final = peer.retrieve("study", {"StudyInstanceUID": make_dataset(study=5).StudyInstanceUID},
                                             into=str(out))
            received_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert results[0].ok and final.completed == 1
    assert open(received[0].location, "rb").read() == open(path, "rb").read()
    # Neither direction held the instance whole: peaks stay a fraction of its 32 MiB.
    assert sent_peak < size / 4, (sent_peak, size)
    assert received_peak < size / 4, (received_peak, size)
