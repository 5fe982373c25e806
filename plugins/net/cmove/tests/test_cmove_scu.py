"""Our C-MOVE SCU against our own SCP, which sends to a dcmtk storescp listed as a destination."""

from __future__ import annotations

import pytest

from gantry import TransportError

from gantry_cmove.models import PENDING, WARNING


def _move(site, port, keys, destination="DEST", level="study"):
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}") as peer:
        return list(peer.retrieve(level, keys, destination=destination))


def test_study_move_sends_every_instance_to_the_destination(moving_site, our_listener, destination):
    ours = our_listener(moving_site.kernel)
    study_uid = moving_site.study_uids()[0]

    *pending, final = _move(moving_site, ours.port, {"StudyInstanceUID": study_uid})

    assert destination.received() == {row["SOPInstanceUID"] for row in moving_site.query("instance", {"StudyInstanceUID": study_uid})}
    assert (final.ok, final.status, final.completed, final.failed, final.warning) == (True, 0, 3, 0, 0)
    assert [(result.status, result.remaining, result.completed) for result in pending] == \
        [(PENDING, 2, 1), (PENDING, 1, 2), (PENDING, 0, 3)]


def test_move_matching_nothing_is_zero_and_success(moving_site, our_listener, destination):
    ours = our_listener(moving_site.kernel)
    [final] = _move(moving_site, ours.port, {"StudyInstanceUID": "1.2.3.999"})
    assert (final.ok, final.status, final.completed, final.failed) == (True, 0, 0, 0)
    assert destination.received() == set()


def test_an_unknown_destination_is_a_transport_error(moving_site, our_listener, destination):
    ours = our_listener(moving_site.kernel)
    with pytest.raises(TransportError, match=r"0xA801 \(Move Destination Unknown\)"):
        _move(moving_site, ours.port, {"StudyInstanceUID": moving_site.study_uids()[0]}, destination="NOWHERE")
    assert destination.received() == set()


def test_an_unreadable_file_is_one_failed_sub_operation_and_a_warning(moving_site, our_listener, destination):
    study_uid = moving_site.study_uids()[0]
    backend = moving_site.kernel.open_storage(moving_site.database)
    try:
        damaged = backend.query("instance", {"StudyInstanceUID": study_uid})[0]
    finally:
        backend.close()
    with open(damaged["location"], "wb") as file:
        file.write(b"not DICOM any more")
    ours = our_listener(moving_site.kernel)

    final = _move(moving_site, ours.port, {"StudyInstanceUID": study_uid})[-1]

    assert (final.ok, final.status, final.completed, final.failed) == (False, WARNING, 2, 1)
    assert destination.received() == {row["SOPInstanceUID"] for row in moving_site.query("instance", {"StudyInstanceUID": study_uid})} - {damaged["SOPInstanceUID"]}


def test_a_failure_status_is_a_transport_error(moving_site, our_listener, destination):
    ours = our_listener(moving_site.kernel)
    with pytest.raises(TransportError, match="0xA900"):
        # Only our SCP's check stops this: StudyInstanceUID is present but has no value.
        _move(moving_site, ours.port, {"StudyInstanceUID": "", "PatientID": "*"})
