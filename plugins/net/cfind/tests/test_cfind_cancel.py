"""C-CANCEL of a C-FIND against our C-FIND SCP on a real index: dcmtk's ``findscu --cancel``,
pynetdicom sending C-CANCEL itself, and our own SCU's ``limit``. The SCP is held after a few
answers until the cancel has arrived (``held_until_cancelled``): locally it would otherwise
answer everything before any cancel could come back."""

from __future__ import annotations

from pynetdicom import AE

from gantry_cfind.models import FIND_SOP_CLASSES
from gantry_cfind.scp import find_scp
from gantry_dimse.echo import echo_scp
from gantry_dimse.testing import held_until_cancelled

STUDY_ROOT = FIND_SOP_CLASSES["study"]
VERIFICATION = "1.2.840.10008.1.1"
PENDING = (0xFF00, 0xFF01)
CANCEL = 0xFE00


def instance_query():
    from pydicom import Dataset

    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.SOPInstanceUID = ""
    return query


def test_findscu_cancel_stops_our_scp_early(indexed_site, our_listener, findscu):
    matches = len(indexed_site.query("instance", {}))
    held, cancel_seen = held_until_cancelled(find_scp(indexed_site.kernel), after=2)
    ours = our_listener(indexed_site.kernel, roles=[held, echo_scp(None)])
    run = findscu(ours.port, "-S", "-k", "QueryRetrieveLevel=IMAGE", "-k", "SOPInstanceUID", "--cancel", "2")
    assert run.returncode == 0, run.output
    assert cancel_seen == [True]
    assert len(run.answers) == 2 < matches
    assert "Received Final Find Response (Cancel" in run.output, run.output
    assert "Abort" not in run.output  # released normally after the cancelled query


def test_a_cancelled_find_leaves_the_association_usable(indexed_site, our_listener):
    matches = len(indexed_site.query("instance", {}))
    held, cancel_seen = held_until_cancelled(find_scp(indexed_site.kernel), after=3)
    ours = our_listener(indexed_site.kernel, roles=[held, echo_scp(None)])
    ae = AE(ae_title="PYNETDICOM")
    ae.add_requested_context(STUDY_ROOT)
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate("127.0.0.1", ours.port, ae_title="OURAE")
    try:
        assert assoc.is_established
        statuses = []
        for status, _identifier in assoc.send_c_find(instance_query(), STUDY_ROOT, msg_id=7):
            statuses.append(int(status.Status))
            if statuses.count(PENDING[0]) + statuses.count(PENDING[1]) == 1:
                assoc.send_c_cancel(7, query_model=STUDY_ROOT)
        assert cancel_seen == [True]
        assert statuses[-1] == CANCEL and len(statuses) - 1 == 3 < matches
        # The same association answers the next query in full, and a C-ECHO.
        again = [int(status.Status) for status, _ in assoc.send_c_find(instance_query(), STUDY_ROOT, msg_id=8)]
        assert again[-1] == 0x0000 and len(again) - 1 == matches
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()
        ae.shutdown()


def test_our_scu_limit_cancels_against_the_real_index(indexed_site, our_listener):
    matches = len(indexed_site.query("study", {}))
    held, cancel_seen = held_until_cancelled(find_scp(indexed_site.kernel), after=2)
    ours = our_listener(indexed_site.kernel, roles=[held, echo_scp(None)])
    with indexed_site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        answers = list(peer.find("study", {"StudyInstanceUID": ""}, limit=2))
        assert len(answers) == 2 < matches
        assert cancel_seen == [True]  # our SCU sent C-CANCEL, the SCP stopped on it
        everything = list(peer.find("study", {"StudyInstanceUID": ""}))
        assert len(everything) == matches
        assert peer.pool.opened == 1  # the cancelled query's association was reused
