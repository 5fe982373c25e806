"""Our C-GET SCU against our own SCP (a Listener answering from an indexed site)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from gantry import TransportError


def _retrieve(site, port, keys, out: Path, level="study"):
    store = site.kernel.open_instance_store(str(out))
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}") as peer:
        return list(peer.retrieve(level, keys, into=store))


def test_study_get_brings_every_instance_byte_equal(indexed_site, our_listener, tmp_path):
    ours = our_listener(indexed_site.kernel)
    study_uid = indexed_site.study_uids()[0]
    expected = {row["SOPInstanceUID"]: row["location"] for row in indexed_site.query("instance", {"StudyInstanceUID": study_uid})}
    assert len(expected) == 3

    *received, final = _retrieve(indexed_site, ours.port, {"StudyInstanceUID": study_uid}, tmp_path / "out")

    assert {result.sop_instance_uid for result in received} == set(expected)
    assert all(result.ok and Path(result.location).is_relative_to(tmp_path / "out") for result in received)
    assert (final.ok, final.status, final.completed, final.failed, final.warning) == (True, 0, 3, 0, 0)
    for result in received:
        got, sent = pydicom.dcmread(result.location), pydicom.dcmread(expected[result.sop_instance_uid])
        assert got.SOPInstanceUID == sent.SOPInstanceUID
        assert got.PixelData == sent.PixelData


def test_get_matching_nothing_is_zero_and_success(indexed_site, our_listener, tmp_path):
    ours = our_listener(indexed_site.kernel)
    results = _retrieve(indexed_site, ours.port, {"StudyInstanceUID": "1.2.3.999"}, tmp_path / "out")
    assert len(results) == 1
    assert (results[0].ok, results[0].status, results[0].completed, results[0].failed) == (True, 0, 0, 0)


def test_series_get_and_association_reuse(indexed_site, our_listener, tmp_path):
    ours = our_listener(indexed_site.kernel)
    study_uid = indexed_site.study_uids()[0]
    series_uid = indexed_site.query("instance", {"StudyInstanceUID": study_uid})[0]["SeriesInstanceUID"]
    store = indexed_site.kernel.open_instance_store(str(tmp_path / "out"))
    with indexed_site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        first = list(peer.retrieve("series", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid},
                                   into=store))
        second = list(peer.retrieve("study", {"StudyInstanceUID": indexed_site.study_uids()[1]}, into=store))
        assert peer.pool.opened == 1
    assert first[-1].completed == len(first) - 1 >= 1
    assert second[-1].completed == 1 and second[0].ok


def test_a_failure_status_is_a_transport_error(indexed_site, our_listener, tmp_path):
    ours = our_listener(indexed_site.kernel)
    with pytest.raises(TransportError, match="0xA900"):
        # Only our SCP's check stops this: StudyInstanceUID is present but has no value.
        _retrieve(indexed_site, ours.port, {"StudyInstanceUID": "", "PatientID": "*"}, tmp_path / "out")
