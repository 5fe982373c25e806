"""dcmtk's findscu asking our Listener, which answers C-FIND from a SQLite index."""

from __future__ import annotations

NON_ASCII_NAME = "MÜLLER^ANNA"  # patient 2 in conftest.ARCHIVE


def uids(answers, keyword):
    return sorted(str(answer.get(keyword, "")) for answer in answers)


def test_study_root_study_query_with_wildcard_and_date_range(indexed_site, our_listener, findscu):
    ours = our_listener(indexed_site.kernel)
    assert "C-FIND" in ours.services
    run = findscu(ours.port, "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName=PLANTED*",
                  "-k", "StudyDate=20240101-", "-k", "StudyInstanceUID", "-k", "ModalitiesInStudy",
                  "-k", "StudyDescription")
    assert run.returncode == 0, run.output
    expected = indexed_site.query("study", {"PatientName": "PLANTED*", "StudyDate": "20240101-"})
    assert len(expected) == 1  # patient 1's first study; the MR study is from 2023
    assert uids(run.answers, "StudyInstanceUID") == sorted(row["StudyInstanceUID"] for row in expected)
    answer = run.answers[0]
    assert {element.keyword for element in answer} == {
        "QueryRetrieveLevel", "PatientName", "StudyDate", "StudyInstanceUID", "ModalitiesInStudy", "StudyDescription"}
    assert answer.StudyDate == "20240315" and answer.ModalitiesInStudy == "CT"
    assert answer.StudyDescription == "Synthetic study"


def test_patient_root_patient_query_answers_counts_and_utf8_names(indexed_site, our_listener, findscu):
    ours = our_listener(indexed_site.kernel)
    run = findscu(ours.port, "-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientName", "-k", "PatientID",
                  "-k", "NumberOfPatientRelatedStudies")
    assert run.returncode == 0, run.output
    expected = indexed_site.query("patient", {})
    assert uids(run.answers, "PatientID") == sorted(row["PatientID"] for row in expected) and len(expected) == 3
    by_id = {str(answer.PatientID): answer for answer in run.answers}
    assert by_id["PHI-PID-000417"].NumberOfPatientRelatedStudies == 2
    unicode_answer = next(answer for answer in run.answers if answer.get("SpecificCharacterSet"))
    assert unicode_answer.SpecificCharacterSet == "ISO_IR 192" and str(unicode_answer.PatientName) == NON_ASCII_NAME
    assert all(not answer.get("SpecificCharacterSet") for answer in run.answers if answer is not unicode_answer)


def test_study_root_series_and_patient_root_image_queries(indexed_site, our_listener, findscu):
    ours = our_listener(indexed_site.kernel)
    study = indexed_site.query("study", {"PatientID": "PHI-PID-000417", "StudyDate": "20240315"})[0]
    series = findscu(ours.port, "-S", "-k", "QueryRetrieveLevel=SERIES", "-k",
                     f"StudyInstanceUID={study['StudyInstanceUID']}", "-k", "SeriesInstanceUID", "-k", "Modality",
                     "-k", "SeriesNumber", "-k", "NumberOfSeriesRelatedInstances")
    assert series.returncode == 0, series.output
    assert sorted(int(answer.SeriesNumber) for answer in series.answers) == [1, 2]
    assert sorted(int(answer.NumberOfSeriesRelatedInstances) for answer in series.answers) == [1, 2]
    first = next(answer for answer in series.answers if int(answer.SeriesNumber) == 1)
    images = findscu(ours.port, "-P", "-k", "QueryRetrieveLevel=IMAGE", "-k", "PatientID=PHI-PID-000417",
                     "-k", f"StudyInstanceUID={study['StudyInstanceUID']}",
                     "-k", f"SeriesInstanceUID={first.SeriesInstanceUID}", "-k", "SOPInstanceUID",
                     "-k", "InstanceNumber", "-k", "Rows")
    assert images.returncode == 0, images.output
    expected = indexed_site.query("instance", {"SeriesInstanceUID": str(first.SeriesInstanceUID)})
    assert uids(images.answers, "SOPInstanceUID") == sorted(row["SOPInstanceUID"] for row in expected)
    assert all(answer.Rows == 4 for answer in images.answers)


def test_time_ranges_question_marks_and_unknown_keys(indexed_site, our_listener, findscu):
    ours = our_listener(indexed_site.kernel)
    run = findscu(ours.port, "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyTime=100000-110000",
                  "-k", "PatientID=PHI-PID-000417-?", "-k", "StudyInstanceUID", "-k", "InstitutionName",
                  "-k", "PatientWeight")
    assert run.returncode == 0, run.output
    assert uids(run.answers, "PatientID") == ["PHI-PID-000417-2", "PHI-PID-000417-3"]
    # Keys the index does not hold come back empty: an answer, not an error.
    assert all(answer.InstitutionName == "" and answer.PatientWeight is None for answer in run.answers)
    late = findscu(ours.port, "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyTime=110000-",
                   "-k", "StudyInstanceUID")
    assert late.returncode == 0 and late.answers == []


def test_an_unknown_level_is_a_failure_status_with_a_reason(indexed_site, our_listener, findscu):
    ours = our_listener(indexed_site.kernel)
    run = findscu(ours.port, "-S", "-k", "QueryRetrieveLevel=WARD", "-k", "PatientID")
    assert run.answers == []
    assert "DataSetDoesNotMatchSOPClass" in run.output, run.output  # dcmtk's name for 0xA900
