"""store (POST /instances) and find (/tools/find) against a real Orthanc 1.10."""

from __future__ import annotations

import pytest

from gantry import TransportError


def test_echo_reports_orthanc_version(site, orthanc_url):
    with site.kernel.open_transport(orthanc_url) as orthanc:
        result = orthanc.echo()
    assert result.ok and result.status == 200
    assert result.version.startswith("1.") and result.dicom_aet == "ORTHANC"


def test_store_folder_then_again_already_stored(site, orthanc, orthanc_url, corpus):
    (corpus.folder / "notes.txt").write_text("not dicom")
    progress: list[tuple[int, int]] = []
    with site.kernel.open_transport(orthanc_url) as peer:
        first = list(peer.store([corpus.folder], progress=lambda done, total: progress.append((done, total))))
        again = list(peer.store([corpus.folder]))
    stored = [result for result in first if result.ok]
    assert sorted(result.sop_instance_uid for result in stored) == sorted(corpus.files)
    assert {result.orthanc_status for result in stored} == {"Success"}
    assert [result.reason for result in first if not result.ok] == ["not a DICOM file"]
    assert progress[-1] == (7, 7) and len(progress) == 7
    assert {result.orthanc_status for result in again if result.ok} == {"AlreadyStored"}
    assert all(result.reason == "AlreadyStored" for result in again if result.ok)
    # Orthanc really holds them, byte for byte
    assert len(orthanc.rest("GET", "/instances")) == 6
    one = next(result for result in stored)
    assert orthanc.rest("GET", f"/instances/{one.orthanc_id}/file") == corpus.file_of(one.sop_instance_uid).read_bytes()


def test_store_fail_fast_stops_at_first_failure(site, orthanc, orthanc_url, corpus, tmp_path):
    bad = tmp_path / "a_first"
    bad.mkdir()
    (bad / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"garbage" * 10)
    with site.kernel.open_transport(orthanc_url) as peer:
        results = list(peer.store([bad, corpus.folder], continue_on_error=False))
    assert len(results) == 1 and not results[0].ok
    assert orthanc.rest("GET", "/instances") == []


def test_store_refused_by_orthanc_is_a_result(site, orthanc, orthanc_url, tmp_path):
    # a header our reader accepts but Orthanc refuses (no study or series UID): Orthanc says why
    from pydicom import Dataset
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    dataset = Dataset()
    dataset.SOPInstanceUID = generate_uid()
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR: no pixel data expected
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    path = tmp_path / "odd.dcm"
    dataset.save_as(path, enforce_file_format=True)
    with site.kernel.open_transport(orthanc_url) as peer:
        [result] = list(peer.store([path]))
    assert not result.ok and result.reason.startswith("refused by Orthanc: HTTP 4")


def test_store_datasets_bytes_and_index_rows(site, orthanc, orthanc_url, corpus):
    from pydicom import dcmread

    from gantry.session import Session

    with Session(site.database, kernel=site.kernel) as session:
        session.ingest([corpus.folder / "p1"])
        rows = session.query("instance", {"PatientID": "ORT-001"})
    assert len(rows) == 3
    files = sorted(corpus.files.items())
    p2 = [(uid, path) for uid, path in files if "/p2/" in str(path)]
    with site.kernel.open_transport(orthanc_url) as peer:
        results = list(peer.store([*rows, dcmread(p2[0][1]), p2[1][1].read_bytes()]))
    assert [result.ok for result in results] == [True] * 5, results
    assert len(orthanc.rest("GET", "/instances")) == 5


def test_store_in_parallel_keeps_order(site, orthanc, orthanc_url, corpus):
    paths = sorted(str(path) for path in corpus.files.values())
    with site.kernel.open_transport(orthanc_url) as peer:
        results = list(peer.store(paths, associations=3))
    assert [result.source for result in results] == paths and all(result.ok for result in results)


# -- find -------------------------------------------------------------------------------------


def _find(site, url, level, keys, **options):
    with site.kernel.open_transport(url) as peer:
        answers = list(peer.find(level, keys, **options))
        return answers, dict(peer.find_sources)


def test_find_patients_with_wildcards(site, loaded, orthanc_url):
    answers, _ = _find(site, orthanc_url, "patient", {"PatientID": "ORT-*", "PatientName": "",
                                                      "NumberOfPatientRelatedStudies": ""})
    assert sorted((a.PatientID, str(a.PatientName), int(a.NumberOfPatientRelatedStudies)) for a in answers) == [
        ("ORT-001", "DOE^JANE", 1), ("ORT-002", "DOE^JOHN", 1)]
    assert {a.QueryRetrieveLevel for a in answers} == {"PATIENT"}
    answers, _ = _find(site, orthanc_url, "patient", {"PatientName": "doe^j*"})  # PN: case-insensitive
    assert sorted(a.PatientID for a in answers) == ["ORT-001", "ORT-002"]
    answers, _ = _find(site, orthanc_url, "patient", {"PatientName": "*^?ohn"})
    assert [a.PatientID for a in answers] == ["ORT-002"]


def test_find_studies_with_date_ranges_and_computed_keys(site, loaded, orthanc_url):
    keys = {"StudyDate": "20240101-20251231", "PatientID": "", "ModalitiesInStudy": "",
            "NumberOfStudyRelatedInstances": "", "NumberOfStudyRelatedSeries": ""}
    answers, sources = _find(site, orthanc_url, "study", keys)
    assert sorted(a.PatientID for a in answers) == ["ORT-002", "XYZ-003"]
    assert all(a.StudyDate >= "20240101" for a in answers)
    answers, _ = _find(site, orthanc_url, "study", {**keys, "StudyDate": "-20231231"})
    [jane] = answers
    assert jane.StudyInstanceUID == loaded.studies["ORT-001"]
    assert list(jane.ModalitiesInStudy) == ["CT", "MR"]
    assert int(jane.NumberOfStudyRelatedInstances) == 3 and int(jane.NumberOfStudyRelatedSeries) == 2
    assert sources["PatientID"] == "main" and sources["NumberOfStudyRelatedInstances"] == "computed"
    # ModalitiesInStudy as a matching key
    answers, _ = _find(site, orthanc_url, "study", {"ModalitiesInStudy": "MR", "PatientID": ""})
    assert sorted(a.PatientID for a in answers) == ["ORT-001", "ORT-002"]


def test_find_series_and_instances_with_keys_from_other_levels(site, loaded, orthanc_url):
    answers, sources = _find(site, orthanc_url, "series", {"PatientID": "ORT-00?", "Modality": "MR",
                                                           "PatientName": "", "StudyDate": "",
                                                           "NumberOfSeriesRelatedInstances": ""})
    assert sorted((a.PatientID, str(a.PatientName), a.StudyDate, int(a.NumberOfSeriesRelatedInstances))
                  for a in answers) == [("ORT-001", "DOE^JANE", "20230110", 1), ("ORT-002", "DOE^JOHN", "20240620", 2)]
    assert sources["PatientName"] == "parent" and sources["Modality"] == "main"
    uid_list = "\\".join([loaded.series[("ORT-001", "CT")], loaded.series[("XYZ-003", "CT")]])
    answers, sources = _find(site, orthanc_url, "instance", {"SeriesInstanceUID": uid_list, "SOPClassUID": "",
                                                             "Rows": "", "InstanceNumber": ""})
    assert sorted(a.SOPInstanceUID for a in answers) == sorted(
        uid for uid, path in loaded.files.items() if "/s1/" in str(path) and ("/p1/" in str(path) or "/p3/" in str(path)))
    assert {a.SOPClassUID for a in answers} == {"1.2.840.10008.5.1.4.1.1.2"}
    assert sorted(a.Rows for a in answers) == [17, 17, 18]
    assert sources["SOPClassUID"] == "metadata" and sources["Rows"] == "file"


def test_find_matches_a_key_that_is_not_a_main_tag(site, loaded, orthanc_url):
    answers, _ = _find(site, orthanc_url, "instance", {"PatientID": "ORT-002", "Rows": "18"})
    assert len(answers) == 1 and answers[0].Rows == 18


def test_find_pages_and_limits(site, loaded, orthanc_url):
    paged = f"{orthanc_url}?page_size=2"
    answers, _ = _find(site, paged, "instance", {"SOPInstanceUID": ""})
    assert sorted(a.SOPInstanceUID for a in answers) == sorted(loaded.files)  # 6 answers in 3 pages + 1
    answers, _ = _find(site, paged, "instance", {}, limit=5)
    assert len({a.SOPInstanceUID for a in answers}) == 5


def test_find_bad_level_or_keyword_is_a_transport_error(site, orthanc_url):
    with site.kernel.open_transport(orthanc_url) as peer:
        with pytest.raises(TransportError, match="unknown query level"):
            list(peer.find("frames", {}))
        with pytest.raises(TransportError, match="NotAKeyword"):
            list(peer.find("study", {"NotAKeyword": "1"}))
