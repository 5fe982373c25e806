"""C-FIND both ways with a real Orthanc (the session's ``orthanc_server``, Orthanc 1.10): our SCU
querying Orthanc at every level, and Orthanc's C-FIND SCU (``/modalities/NAME/query``) querying our
listener. Both sides hold the same archive: the ``indexed_site`` files, uploaded into Orthanc."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gantry import TransportError
from gantry.cli import make_app

NON_ASCII_NAME = "MÜLLER^ANNA"  # patient 2 in conftest.ARCHIVE
PATIENT_1 = "PHI-PID-000417"
CALLING = "GANTRYFIND"


@pytest.fixture
def orthanc(orthanc_server, indexed_site, tmp_path) -> Iterator[Any]:
    """The session's Orthanc holding exactly the indexed site's archive, and knowing our calling AE
    (Orthanc answers C-FIND only from known modalities)."""
    orthanc_server.clear()
    for path in sorted((Path(tmp_path) / "archive").glob("*.dcm")):
        orthanc_server.upload(path.read_bytes())
    orthanc_server.add_modality("gantry-find-scu", CALLING, 104)
    yield orthanc_server
    orthanc_server.rest("DELETE", "/modalities/gantry-find-scu")


def find(site, orthanc, level, keys, model="study", calling=CALLING) -> list[Any]:
    with site.kernel.open_transport(f"{orthanc.dicom_url}?calling={calling}") as peer:
        return list(peer.find(level, keys, model=model))


def values(answers, keyword) -> list[str]:
    return sorted(str(answer.get(keyword, "")) for answer in answers)


def expected(site, level, filters, keyword) -> list[str]:
    return sorted(str(row[keyword]) for row in site.query(level, filters))


def test_patient_level_with_wildcards(indexed_site, orthanc):
    everyone = find(indexed_site, orthanc, "patient", {"PatientID": "", "PatientName": ""}, model="patient")
    assert values(everyone, "PatientID") == expected(indexed_site, "patient", {}, "PatientID")
    assert len(everyone) == 3
    planted = find(indexed_site, orthanc, "patient", {"PatientName": "PLANTED*", "PatientID": ""}, model="patient")
    assert values(planted, "PatientID") == [PATIENT_1]
    question_mark = find(indexed_site, orthanc, "patient", {"PatientID": f"{PATIENT_1}-?", "PatientName": ""},
                         model="patient")
    assert values(question_mark, "PatientID") == [f"{PATIENT_1}-2", f"{PATIENT_1}-3"]
    assert {str(answer.PatientName) for answer in question_mark} == {NON_ASCII_NAME, "OTHER^PERSON"}
    unicode = find(indexed_site, orthanc, "patient", {"PatientName": "M*", "PatientID": ""}, model="patient")
    assert [str(answer.PatientName) for answer in unicode] == [NON_ASCII_NAME]  # decoded in its character set


@pytest.mark.parametrize(("dates", "expected_dates"), [
    ("20240101-", ["20240315", "20240601"]), ("-20231231", ["20220101", "20231120"]),
    ("20231101-20240331", ["20231120", "20240315"]), ("20240601", ["20240601"])])
def test_study_level_date_ranges(indexed_site, orthanc, dates, expected_dates):
    answers = find(indexed_site, orthanc, "study", {"StudyDate": dates, "StudyInstanceUID": "", "PatientID": ""})
    assert values(answers, "StudyDate") == expected_dates
    assert values(answers, "StudyInstanceUID") == expected(indexed_site, "study", {"StudyDate": dates},
                                                          "StudyInstanceUID")
    assert all(answer.QueryRetrieveLevel == "STUDY" for answer in answers)


def test_study_level_wildcard_and_date_together(indexed_site, orthanc):
    answers = find(indexed_site, orthanc, "study", {"PatientName": "PLANTED*", "StudyDate": "20240101-",
                                                    "StudyInstanceUID": "", "StudyDescription": ""})
    assert len(answers) == 1
    assert answers[0].StudyDate == "20240315" and answers[0].StudyDescription == "Synthetic study"
    assert values(answers, "StudyInstanceUID") == expected(
        indexed_site, "study", {"PatientName": "PLANTED*", "StudyDate": "20240101-"}, "StudyInstanceUID")


def test_series_and_instance_levels(indexed_site, orthanc):
    study = indexed_site.query("study", {"PatientID": PATIENT_1, "StudyDate": "20240315"})[0]["StudyInstanceUID"]
    series = find(indexed_site, orthanc, "series", {"StudyInstanceUID": study, "SeriesInstanceUID": "",
                                                    "Modality": "", "SeriesNumber": ""})
    assert values(series, "SeriesInstanceUID") == expected(indexed_site, "series", {"StudyInstanceUID": study},
                                                          "SeriesInstanceUID")
    assert sorted(int(answer.SeriesNumber) for answer in series) == [1, 2]
    assert {answer.Modality for answer in series} == {"CT"}
    first = next(answer for answer in series if int(answer.SeriesNumber) == 1)
    images = find(indexed_site, orthanc, "instance", {"StudyInstanceUID": study,
                                                      "SeriesInstanceUID": str(first.SeriesInstanceUID),
                                                      "SOPInstanceUID": "", "InstanceNumber": ""})
    assert values(images, "SOPInstanceUID") == expected(
        indexed_site, "instance", {"SeriesInstanceUID": str(first.SeriesInstanceUID)}, "SOPInstanceUID")
    assert sorted(int(answer.InstanceNumber) for answer in images) == [1, 2]
    # Patient Root, every level named above the queried one.
    patient_root = find(indexed_site, orthanc, "instance", {
        "PatientID": PATIENT_1, "StudyInstanceUID": study, "SeriesInstanceUID": str(first.SeriesInstanceUID),
        "SOPInstanceUID": ""}, model="patient")
    assert values(patient_root, "SOPInstanceUID") == values(images, "SOPInstanceUID")
    # A modality wildcard at series level over every study of patient 1 (Patient Root).
    mr = find(indexed_site, orthanc, "study", {"PatientID": PATIENT_1, "StudyInstanceUID": "",
                                               "ModalitiesInStudy": "MR"}, model="patient")
    assert values(mr, "StudyInstanceUID") == expected(indexed_site, "study",
                                                       {"PatientID": PATIENT_1, "StudyDate": "20231120"},
                                                       "StudyInstanceUID")


def test_gantry_find_cli_against_orthanc(indexed_site, orthanc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    result = CliRunner().invoke(make_app(), ["find", f"{orthanc.dicom_url}?calling={CALLING}", "--level", "study",
                                             "-k", "PatientID=PHI*", "-k", "StudyDate=20240101-20241231",
                                             "-k", "StudyInstanceUID=", "--json"])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.strip().splitlines()]
    assert sorted(answer["StudyDate"] for answer in answers) == ["20240315", "20240601"]
    assert sorted(answer["StudyInstanceUID"] for answer in answers) == expected(
        indexed_site, "study", {"StudyDate": "20240101-20241231"}, "StudyInstanceUID")


def test_orthanc_refuses_an_unknown_calling_ae(indexed_site, orthanc):
    # Orthanc 1.10 answers C-FIND only from configured modalities (DicomAlwaysAllowFind is false):
    # it accepts the association, then drops it at the request without a response.
    with pytest.raises(TransportError, match="no C-FIND response"):
        find(indexed_site, orthanc, "study", {"StudyInstanceUID": ""}, calling="STRANGER")


# -- Orthanc querying our listener ----------------------------------------------------------------


@pytest.fixture
def ours_in_orthanc(orthanc_server, indexed_site, our_listener) -> Iterator[Any]:
    """Our listener (answering from the indexed site), known to Orthanc as modality ``gantry-find``."""
    ours = our_listener(indexed_site.kernel, "OURFIND", allow=("ORTHANC",))
    orthanc_server.add_modality("gantry-find", "OURFIND", ours.port)
    yield ours
    orthanc_server.rest("DELETE", "/modalities/gantry-find")


def orthanc_query(orthanc, level: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """``POST /modalities/gantry-find/query``, then every answer's content (keyword -> value)."""
    created = orthanc.rest("POST", "/modalities/gantry-find/query", {"Level": level, "Query": query})
    path = created["Path"]
    try:
        indexes = orthanc.rest("GET", f"{path}/answers")
        return [orthanc.rest("GET", f"{path}/answers/{index}/content?simplify") for index in indexes]
    finally:
        orthanc.rest("DELETE", path)


def test_orthanc_queries_our_listener_at_every_level(orthanc_server, indexed_site, ours_in_orthanc):
    patients = orthanc_query(orthanc_server, "Patient", {"PatientName": "*"})
    assert sorted(answer["PatientID"] for answer in patients) == expected(indexed_site, "patient", {}, "PatientID")
    assert NON_ASCII_NAME in {answer["PatientName"] for answer in patients}  # our UTF-8 answer, read by Orthanc

    studies = orthanc_query(orthanc_server, "Study", {"PatientName": "PLANTED*", "StudyDate": "20230101-20241231"})
    assert sorted(answer["StudyDate"] for answer in studies) == ["20231120", "20240315"]
    assert sorted(answer["StudyInstanceUID"] for answer in studies) == expected(
        indexed_site, "study", {"PatientName": "PLANTED*", "StudyDate": "20230101-20241231"}, "StudyInstanceUID")

    study = indexed_site.query("study", {"StudyDate": "20240315"})[0]["StudyInstanceUID"]
    series = orthanc_query(orthanc_server, "Series", {"StudyInstanceUID": study, "Modality": "C?", "SeriesNumber": ""})
    assert sorted(answer["SeriesInstanceUID"] for answer in series) == expected(
        indexed_site, "series", {"StudyInstanceUID": study}, "SeriesInstanceUID")
    assert {answer["Modality"] for answer in series} == {"CT"}

    first = next(answer["SeriesInstanceUID"] for answer in series if answer["SeriesNumber"] == "1")
    images = orthanc_query(orthanc_server, "Instance", {"StudyInstanceUID": study, "SeriesInstanceUID": first})
    assert sorted(answer["SOPInstanceUID"] for answer in images) == expected(
        indexed_site, "instance", {"SeriesInstanceUID": first}, "SOPInstanceUID")
    assert len(images) == 2
    assert ours_in_orthanc.accepted == 4  # one association per query


def test_orthanc_query_matching_nothing_gets_no_answers(orthanc_server, ours_in_orthanc):
    assert orthanc_query(orthanc_server, "Study", {"StudyDate": "19000101-19001231"}) == []
    assert orthanc_query(orthanc_server, "Patient", {"PatientID": "NOBODY*"}) == []


def test_non_ascii_keys_both_ways(indexed_site, orthanc, ours_in_orthanc):
    # Ours to Orthanc: the identifier goes in UTF-8 (ISO_IR 192); Orthanc matches and answers.
    for pattern in ("MÜLLER*", "*ÜLL*"):
        answers = find(indexed_site, orthanc, "patient", {"PatientName": pattern, "PatientID": ""}, model="patient")
        assert [(str(a.PatientName), str(a.PatientID)) for a in answers] == [(NON_ASCII_NAME, f"{PATIENT_1}-2")]
    # Orthanc to ours: Orthanc sends Latin-1 (its DefaultEncoding, ISO_IR 100); we decode and match.
    for pattern in ("MÜLLER*", "*ÜLL*"):
        answers = orthanc_query(orthanc, "Patient", {"PatientName": pattern})
        assert [(a["PatientName"], a["PatientID"]) for a in answers] == [(NON_ASCII_NAME, f"{PATIENT_1}-2")]


def test_orthanc_matches_modalities_in_study_and_other_study_keys_on_our_index(indexed_site, ours_in_orthanc,
                                                                            orthanc_server):
    mr = orthanc_query(orthanc_server, "Study", {"ModalitiesInStudy": "MR", "StudyDate": ""})
    assert sorted(a["StudyDate"] for a in mr) == ["20220101", "20231120"] and {a["ModalitiesInStudy"] for a in mr} == {"MR"}
    either = orthanc_query(orthanc_server, "Study", {"ModalitiesInStudy": "CT\\MR"})
    assert len(either) == 4
    by_text = orthanc_query(orthanc_server, "Study", {"StudyDescription": "*study", "AccessionNumber": "PHIACC*",
                                                      "StudyTime": "100000-110000"})
    assert sorted(a["StudyInstanceUID"] for a in by_text) == expected(indexed_site, "study", {}, "StudyInstanceUID")
    assert orthanc_query(orthanc_server, "Study", {"StudyDescription": "*other*"}) == []


def test_limit_cancels_a_query_to_orthanc_and_the_association_stays_usable(indexed_site, orthanc):
    with indexed_site.kernel.open_transport(f"{orthanc.dicom_url}?calling={CALLING}") as peer:
        first = list(peer.find("patient", {"PatientID": ""}, model="patient", limit=1))
        everyone = list(peer.find("patient", {"PatientID": ""}, model="patient"))
        opened = peer.pool.opened
    assert len(first) == 1 and str(first[0].PatientID) in values(everyone, "PatientID")
    assert len(everyone) == 3 and opened == 1
