"""QIDO-RS through dicomweb-client and raw HTTP: matching, includefield, paging, warnings, 204."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gantry.testing.datasets import PLANTED_PHI

ALL = ("native", "multiframe", "rle", "jpegls", "series2", "other")


@pytest.fixture
def loaded(serve: Any, instances: Any, stow_raw: Any) -> Any:
    served = serve(max_results=4)
    response = stow_raw(served, [instances[name].data for name in ALL])
    assert response.status_code == 200, response.text
    return served


def _values(answer: dict[str, Any], tag: str) -> list[Any]:
    return answer.get(tag, {}).get("Value", [])


def test_search_for_studies_answers_the_required_attributes(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    studies = client.search_for_studies()
    assert sorted(_values(s, "0020000D")[0] for s in studies) == sorted(
        {instances["native"].study_uid, instances["other"].study_uid})
    (first,) = [s for s in studies if _values(s, "0020000D") == [instances["native"].study_uid]]
    assert _values(first, "00100010") == [{"Alphabetic": PLANTED_PHI["PatientName"]}]
    assert _values(first, "00100020") == [PLANTED_PHI["PatientID"]]
    assert _values(first, "00080020") == ["20240315"]
    assert _values(first, "00080050") == [PLANTED_PHI["AccessionNumber"]]
    assert _values(first, "00080061") == ["CT", "MR"]          # ModalitiesInStudy
    assert _values(first, "00201206") == [2]                   # NumberOfStudyRelatedSeries
    assert _values(first, "00201208") == [5]                   # NumberOfStudyRelatedInstances
    assert _values(first, "00080056") == ["ONLINE"]
    assert _values(first, "00080005") == ["ISO_IR 192"]
    assert first["00081190"] == {"vr": "UR", "Value": [f"{loaded.url}/studies/{instances['native'].study_uid}"]}
    for tag in ("00080030", "00080090", "00100030", "00100040", "00200010"):
        assert tag in first  # required, present even when empty


def test_matching_by_keyword_tag_wildcard_and_range(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    other = instances["other"]
    by_keyword = client.search_for_studies(search_filters={"PatientID": PLANTED_PHI["PatientID"] + "-2"})
    assert [_values(s, "0020000D")[0] for s in by_keyword] == [other.study_uid]
    by_tag = client.search_for_studies(search_filters={"00100020": PLANTED_PHI["PatientID"] + "-2"})
    assert by_tag == by_keyword
    wildcard = client.search_for_studies(search_filters={"PatientID": "PHI-PID-000417-*"})
    assert [_values(s, "0020000D")[0] for s in wildcard] == [other.study_uid]
    assert len(client.search_for_studies(search_filters={"StudyDate": "20240101-20241231"})) == 2
    assert client.search_for_studies(search_filters={"StudyDate": "20250101-"}) == []
    uid_list = client.search_for_studies(search_filters={
        "StudyInstanceUID": f"{instances['native'].study_uid},{other.study_uid}"})
    assert len(uid_list) == 2


def test_series_and_instances_at_every_route(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    study = instances["native"].study_uid
    series = client.search_for_series(study_instance_uid=study)
    assert sorted(_values(s, "0020000E")[0] for s in series) == sorted(
        {instances["native"].series_uid, instances["series2"].series_uid})
    modality = {(_values(s, "0020000E")[0]): _values(s, "00080060") for s in series}
    assert modality[instances["series2"].series_uid] == ["MR"]
    counts = {(_values(s, "0020000E")[0]): _values(s, "00201209") for s in series}
    assert counts[instances["native"].series_uid] == [4]
    assert "00100020" not in series[0]  # the study is fixed by the path: its attributes are not repeated
    all_series = client.search_for_series()
    assert len(all_series) == 3 and all("00100020" in s for s in all_series)  # study attributes included

    in_series = client.search_for_instances(study_instance_uid=study, series_instance_uid=instances["native"].series_uid)
    assert sorted(_values(i, "00080018")[0] for i in in_series) == sorted(
        instances[n].sop_uid for n in ("native", "multiframe", "rle", "jpegls"))
    frames = {(_values(i, "00080018")[0]): _values(i, "00280008") for i in in_series}
    assert frames[instances["multiframe"].sop_uid] == [3]
    rows = {(_values(i, "00080018")[0]): _values(i, "00280010") for i in in_series}
    assert rows[instances["native"].sop_uid] == [16]
    in_study = client.search_for_instances(study_instance_uid=study, get_remaining=True)  # 4 per page here
    assert len(in_study) == 5 and all("00080060" in i for i in in_study)  # series attributes included
    everywhere = client.search_for_instances(search_filters={"Modality": "MR"})
    assert [_values(i, "00080018")[0] for i in everywhere] == [instances["series2"].sop_uid]
    assert _values(everywhere[0], "00081190") == [
        f"{loaded.url}/studies/{study}/series/{instances['series2'].series_uid}/instances/{instances['series2'].sop_uid}"]


def test_includefield_adds_what_the_index_holds(loaded: Any, instances: Any) -> None:
    client = loaded.client()
    plain = client.search_for_studies(search_filters={"StudyInstanceUID": instances["other"].study_uid})
    assert "00081030" not in plain[0]  # StudyDescription is not a required attribute
    asked = client.search_for_studies(search_filters={"StudyInstanceUID": instances["other"].study_uid},
                                      fields=["StudyDescription", "00101010"])
    assert _values(asked[0], "00081030") == ["Synthetic study"]
    assert "00101010" not in asked[0]  # PatientAge: the index does not hold it
    everything = httpx.get(f"{loaded.url}/studies", params={"includefield": "all", "PatientID": PLANTED_PHI["PatientID"]})
    assert everything.status_code == 200
    (study,) = everything.json()
    assert _values(study, "00081030") == ["Synthetic study"]
    assert _values(study, "00100021") == [] and "00100021" in study  # IssuerOfPatientID, empty


def test_limit_offset_and_the_additional_results_warning(loaded: Any, instances: Any) -> None:
    url = f"{loaded.url}/instances"
    first = httpx.get(url, params={"limit": "2"})
    assert first.status_code == 200 and len(first.json()) == 2
    assert "There are additional results that can be requested" in first.headers["warning"]
    assert first.headers["warning"].startswith(f"299 {loaded.url}:")
    rest = httpx.get(url, params={"limit": "2", "offset": "4"})
    assert len(rest.json()) == 2 and "warning" not in rest.headers
    seen = [_values(a, "00080018")[0] for page in (first, httpx.get(url, params={"limit": "2", "offset": "2"}), rest)
            for a in page.json()]
    assert sorted(seen) == sorted(instances[n].sop_uid for n in ALL)
    capped = httpx.get(url)  # max_results=4 in this server
    assert len(capped.json()) == 4 and "additional results" in capped.headers["warning"]
    over = httpx.get(url, params={"limit": "100"})
    assert len(over.json()) == 4 and "limit was lowered to 4" in over.headers["warning"]
    every = loaded.client().search_for_instances(get_remaining=True)
    assert sorted(_values(a, "00080018")[0] for a in every) == sorted(instances[n].sop_uid for n in ALL)


def test_fuzzymatching_is_accepted_with_the_ps318_warning(loaded: Any) -> None:
    response = httpx.get(f"{loaded.url}/studies", params={"PatientName": "planted*", "fuzzymatching": "true"})
    assert response.status_code == 204  # literal (case-sensitive) matching: no match
    assert response.headers["warning"] == (f"299 {loaded.url}: The fuzzymatching parameter is not supported. "
                                           "Only literal matching has been performed.")
    literal = httpx.get(f"{loaded.url}/studies", params={"PatientName": "PLANTED*", "fuzzymatching": "true"})
    assert literal.status_code == 200 and len(literal.json()) == 2
    empty = httpx.get(f"{loaded.url}/studies", params={"emptyvaluematching": "true"})
    assert empty.headers["warning"] == (f"299 {loaded.url}: The emptyvaluematching parameter is not supported. "
                                        "Empty Value Matching has not been performed.")
    assert "warning" not in httpx.get(f"{loaded.url}/studies", params={"fuzzymatching": "false"}).headers


def test_no_match_is_204_without_body(loaded: Any) -> None:
    response = httpx.get(f"{loaded.url}/studies", params={"PatientID": "nobody"})
    assert response.status_code == 204 and response.content == b""
    assert loaded.client().search_for_studies(search_filters={"PatientID": "nobody"}) == []


def test_unmatchable_key_is_ignored_with_a_warning(loaded: Any) -> None:
    response = httpx.get(f"{loaded.url}/studies", params={"PatientAge": "062Y"})
    assert response.status_code == 200 and len(response.json()) == 2
    assert "PatientAge" in response.headers["warning"]


@pytest.mark.parametrize("params, status", [
    ({"NoSuchKeyword": "1"}, 400),
    ({"limit": "-1"}, 400),
    ({"offset": "x"}, 400),
    ({"0040A730.00080100": "x"}, 400),
    ({"fuzzymatching": "maybe"}, 400),
    ({"SeriesNumber": "not-a-number"}, 400),
])
def test_bad_queries_are_400_with_a_json_error(loaded: Any, params: dict[str, str], status: int) -> None:
    response = httpx.get(f"{loaded.url}/series", params=params)
    assert response.status_code == status
    assert response.json()["error"]["status"] == status


def test_xml_only_accept_is_406_and_bad_path_uid_is_400(loaded: Any) -> None:
    xml = httpx.get(f"{loaded.url}/studies", headers={"Accept": 'multipart/related; type="application/dicom+xml"'})
    assert xml.status_code == 406
    assert httpx.get(f"{loaded.url}/studies/1.2.*/series").status_code == 400
