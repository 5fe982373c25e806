"""retrieve from a real Orthanc: instances (/file), series and studies (/archive) into a store,
and Orthanc sending to our own DIMSE listener (/modalities/{name}/store as a job)."""

from __future__ import annotations

import pytest
from pydicom import dcmread

from gantry import TransportError


def _stored(results):
    return [result for result in results if result.sop_instance_uid]


def _check_byte_equal(site, results, corpus):
    store = site.kernel.open_instance_store(str(site.store))
    for result in results:
        assert result.ok, result
        with store.open(result.location) as received:
            data = received.read()
        original = corpus.file_of(result.sop_instance_uid)
        assert data == original.read_bytes()  # the very bytes uploaded, pixel data included
        assert dcmread(original).PixelData == dcmread(store.open(result.location)).PixelData


def test_retrieve_one_instance(site, loaded, orthanc_url):
    sop_uid = next(uid for uid, path in loaded.files.items() if "/p2/" in str(path))
    with site.kernel.open_transport(orthanc_url) as peer:
        results = list(peer.retrieve("instance", {"SOPInstanceUID": sop_uid}, into=str(site.store)))
    instances, final = _stored(results), results[-1]
    assert [result.sop_instance_uid for result in instances] == [sop_uid]
    assert (final.completed, final.failed, final.remaining, final.status) == (1, 0, 0, 0x0000)
    _check_byte_equal(site, instances, loaded)


def test_retrieve_series_from_its_archive(site, loaded, orthanc_url):
    series_uid = loaded.series[("ORT-001", "CT")]
    with site.kernel.open_transport(orthanc_url) as peer:
        results = list(peer.retrieve("series", {"SeriesInstanceUID": series_uid}, into=str(site.store)))
    instances = _stored(results)
    assert len(instances) == 2 and results[-1].completed == 2 and results[-1].ok
    assert {dcmread(loaded.file_of(r.sop_instance_uid)).SeriesInstanceUID for r in instances} == {series_uid}
    _check_byte_equal(site, instances, loaded)


def test_retrieve_studies_by_query_into_a_store_object(site, loaded, orthanc_url):
    store = site.kernel.open_instance_store(str(site.store))
    with site.kernel.open_transport(orthanc_url) as peer:
        results = list(peer.retrieve("study", {"PatientID": "ORT-*"}, into=store))
    instances = _stored(results)
    expected = [uid for uid, path in loaded.files.items() if "/p3/" not in str(path)]
    assert sorted(r.sop_instance_uid for r in instances) == sorted(expected)
    assert (results[-1].completed, results[-1].failed) == (5, 0)
    _check_byte_equal(site, instances, loaded)


def test_retrieve_nothing_matching_and_no_target(site, loaded, orthanc_url):
    with site.kernel.open_transport(orthanc_url) as peer:
        [final] = list(peer.retrieve("study", {"PatientID": "NOBODY"}, into=str(site.store)))
        assert final.ok and final.completed == 0
        with pytest.raises(TransportError, match="needs `into`"):
            peer.retrieve("study", {"PatientID": "*"})


def test_orthanc_sends_to_our_listener(site, loaded, orthanc, orthanc_url):
    from gantry_dimse.testing import listeners

    with listeners() as start:
        ours = start(site.kernel, "OURAE")
        orthanc.add_modality("gantry-test-listener", "OURAE", ours.port)
        try:
            with site.kernel.open_transport(orthanc_url) as peer:
                by_name = list(peer.retrieve("study", {"PatientID": "ORT-001"}, destination="gantry-test-listener"))
                by_title = list(peer.retrieve("series", {"Modality": "CT", "PatientID": "XYZ-003"},
                                              destination="OURAE"))
                with pytest.raises(TransportError, match="knows no modality 'NOWHERE'"):
                    list(peer.retrieve("study", {"PatientID": "*"}, destination="NOWHERE"))
                orthanc.add_modality("gantry-test-twin", "OURAE", ours.port)
                with pytest.raises(TransportError, match="several of Orthanc's modalities have the AE title 'OURAE'"):
                    list(peer.retrieve("study", {"PatientID": "*"}, destination="OURAE"))
        finally:
            for name in ("gantry-test-listener", "gantry-test-twin"):
                orthanc.rest("DELETE", f"/modalities/{name}")
        ours.stop()
    final = by_name[-1]
    assert (final.ok, final.completed, final.failed, final.remaining) == (True, 3, 0, 0)
    assert (by_title[-1].completed, by_title[-1].failed) == (1, 0)
    backend = site.kernel.open_storage(site.database)
    try:
        assert backend.count("instance") == 4
        rows = backend.query("instance", {"PatientID": "ORT-001"}) if hasattr(backend, "query") else None
    finally:
        backend.close()
    if rows is not None:
        assert len(rows) == 3


def test_a_failing_destination_is_a_transport_error_with_orthancs_reason(site, loaded, orthanc, orthanc_url):
    from gantry.testing.network import free_port

    orthanc.add_modality("gantry-dead", "DEAD", free_port())  # nobody listens there
    try:
        with site.kernel.open_transport(orthanc_url) as peer:
            with pytest.raises(TransportError) as caught:
                list(peer.retrieve("study", {"PatientID": "ORT-002"}, destination="gantry-dead"))
    finally:
        orthanc.rest("DELETE", "/modalities/gantry-dead")
    message = str(caught.value)
    assert "gantry-dead failed" in message and "Connection refused" in message and "of 2 instances" in message


def test_orthanc_has_a_pacs_c_move_a_study_to_it(orthanc, orthanc_url, tmp_path, make_kernel):
    """Our DIMSE listener plays the PACS (its C-MOVE SCP knows Orthanc's DICOM port as ORTHANC);
    the adapter asks Orthanc to have it move a study, and the study lands in Orthanc."""
    from gantry.testing.datasets import make_dataset
    from gantry.testing.index import indexed_site
    from gantry_dimse.testing import listeners

    datasets = [make_dataset(patient=9, study=9, series=1, instance=number, rows=16, columns=16)
                for number in (1, 2, 3)]
    destinations = [{"ae": "ORTHANC", "host": "127.0.0.1", "port": orthanc.dicom_port}]
    pacs = indexed_site(tmp_path / "pacs", datasets, config={"cmove": {"destinations": destinations}})
    study_uid = str(datasets[0].StudyInstanceUID)
    with listeners() as start:
        ours = start(pacs.kernel, "GANTRYPACS")
        orthanc.add_modality("gantry-pacs", "GANTRYPACS", ours.port)
        with make_kernel(discover=True).open_transport(orthanc_url) as peer:
            results = list(peer.move_from("gantry-pacs", "study", {"StudyInstanceUID": study_uid}))
            with pytest.raises(TransportError, match="knows no modality 'NOWHERE'"):
                list(peer.move_from("NOWHERE", "study", {"StudyInstanceUID": study_uid}))
            with pytest.raises(TransportError):  # our PACS answers 0xA801: no such destination
                list(peer.move_from("gantry-pacs", "study", {"StudyInstanceUID": study_uid}, target="NOBODY"))
        ours.stop()
    assert results[-1].ok and results[-1].status == 0x0000, results[-1]
    arrived = {orthanc.rest("GET", f"/instances/{identifier}")["MainDicomTags"]["SOPInstanceUID"]
               for identifier in orthanc.rest("GET", "/instances")}
    assert arrived == {str(dataset.SOPInstanceUID) for dataset in datasets}
