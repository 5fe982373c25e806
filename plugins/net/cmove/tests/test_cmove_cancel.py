"""C-CANCEL of a C-MOVE against our C-MOVE SCP, which sends to a dcmtk storescp: dcmtk's
``movescu --cancel`` and pynetdicom sending C-CANCEL itself. The SCP is held after its first
sub-operation until the cancel has arrived (``held_until_cancelled``); locally it would otherwise
send everything before any cancel could come back."""

from __future__ import annotations

import subprocess

from pydicom import Dataset
from pynetdicom import AE

from gantry_cmove.models import MOVE_SOP_CLASSES
from gantry_cmove.scp import move_scp
from gantry_dimse.echo import echo_scp
from gantry_dimse.testing import DCMTK_ENV, dcmtk, held_until_cancelled, wait_until

STUDY_ROOT_MOVE = MOVE_SOP_CLASSES["study"]
VERIFICATION = "1.2.840.10008.1.1"
CANCEL, PENDING = 0xFE00, 0xFF00
#: Items of a C-MOVE handler: the destination, the number of sub-operations, then one per instance.
AFTER_FIRST_INSTANCE = 3


def study_instances(site, study_uid: str) -> set[str]:
    return {row["SOPInstanceUID"] for row in site.query("instance", {"StudyInstanceUID": study_uid})}


def test_movescu_cancel_stops_our_scp_early(moving_site, our_listener, destination):
    study_uid = moving_site.study_uids()[0]
    matches = study_instances(moving_site, study_uid)
    assert len(matches) == 3
    held, cancel_seen = held_until_cancelled(move_scp(moving_site.kernel), after=AFTER_FIRST_INSTANCE)
    ours = our_listener(moving_site.kernel, roles=[held, echo_scp(None)])
    finished = subprocess.run([dcmtk("movescu"), "-v", "-S", "-aet", "DCMTK", "-aec", "OURAE", "-aem", "DEST",
                               "--cancel", "1", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
                               "127.0.0.1", str(ours.port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert cancel_seen == [True]
    assert "Received Final Move Response (Cancel" in output and "Abort" not in output, output
    assert wait_until(lambda: len(destination.received()) == 1)
    assert destination.received() < matches  # one of the three was moved


def test_a_cancelled_move_leaves_the_association_usable(moving_site, our_listener, destination):
    first_study, second_study = moving_site.study_uids()
    held, cancel_seen = held_until_cancelled(move_scp(moving_site.kernel), after=AFTER_FIRST_INSTANCE)
    ours = our_listener(moving_site.kernel, roles=[held, echo_scp(None)])
    ae = AE(ae_title="PYNETDICOM")
    ae.add_requested_context(STUDY_ROOT_MOVE)
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate("127.0.0.1", ours.port, ae_title="OURAE")

    def query(study_uid: str) -> Dataset:
        request = Dataset()
        request.QueryRetrieveLevel = "STUDY"
        request.StudyInstanceUID = study_uid
        return request

    try:
        assert assoc.is_established
        responses = []
        for status, _identifier in assoc.send_c_move(query(first_study), "DEST", STUDY_ROOT_MOVE, msg_id=7):
            responses.append(status)
            if int(status.Status) == PENDING and len(responses) == 1:
                assoc.send_c_cancel(7, query_model=STUDY_ROOT_MOVE)
        final = responses[-1]
        assert cancel_seen == [True]
        assert int(final.Status) == CANCEL
        assert final.NumberOfCompletedSuboperations == 1 and final.NumberOfRemainingSuboperations == 2
        # The same association moves the next study in full, and answers a C-ECHO.
        again = [int(status.Status) for status, _ in assoc.send_c_move(query(second_study), "DEST", STUDY_ROOT_MOVE,
                                                                       msg_id=8)]
        assert again[-1] == 0x0000
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()
        ae.shutdown()
    expected = study_instances(moving_site, second_study)
    assert wait_until(lambda: len(destination.received()) == 1 + len(expected))
    assert expected < destination.received()
    assert len(destination.received() & study_instances(moving_site, first_study)) == 1
