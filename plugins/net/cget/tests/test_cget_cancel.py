"""C-CANCEL of a C-GET against our C-GET SCP on a real index (dcmtk's getscu has no cancel
option: pynetdicom is the requestor). The SCP is held after its first sub-operation until the
cancel has arrived (``held_until_cancelled``); locally it would otherwise send everything before
any cancel could come back."""

from __future__ import annotations

from pydicom import Dataset
from pynetdicom import AE, evt
from pynetdicom.presentation import build_role

from gantry_cget.models import GET_SOP_CLASSES
from gantry_cget.scp import get_scp
from gantry_dimse.echo import echo_scp
from gantry_dimse.testing import held_until_cancelled

STUDY_ROOT_GET = GET_SOP_CLASSES["study"]
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
VERIFICATION = "1.2.840.10008.1.1"
SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
CANCEL, PENDING = 0xFE00, 0xFF00


def study_query(study_uid: str) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    return query


def test_a_cancelled_get_stops_early_and_leaves_the_association_usable(indexed_site, our_listener):
    first_study, second_study = indexed_site.study_uids()
    matches = {row["SOPInstanceUID"] for row in indexed_site.query("instance", {"StudyInstanceUID": first_study})}
    assert len(matches) == 3
    # Items of a C-GET handler: the number of sub-operations, then one per instance.
    held, cancel_seen = held_until_cancelled(get_scp(indexed_site.kernel), after=2)
    ours = our_listener(indexed_site.kernel, roles=[held, echo_scp(None)])
    received: list[str] = []

    def store(event):
        received.append(str(event.dataset.SOPInstanceUID))
        return 0x0000

    ae = AE(ae_title="PYNETDICOM")
    ae.add_requested_context(STUDY_ROOT_GET)
    ae.add_requested_context(CT_IMAGE_STORAGE, SYNTAXES)
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate("127.0.0.1", ours.port, ae_title="OURAE", ext_neg=[build_role(CT_IMAGE_STORAGE, scp_role=True)],
                         evt_handlers=[(evt.EVT_C_STORE, store)])
    try:
        assert assoc.is_established
        responses = []
        for status, _identifier in assoc.send_c_get(study_query(first_study), STUDY_ROOT_GET, msg_id=7):
            responses.append(status)
            if int(status.Status) == PENDING and len(responses) == 1:
                assoc.send_c_cancel(7, query_model=STUDY_ROOT_GET)
        final = responses[-1]
        assert cancel_seen == [True]
        assert int(final.Status) == CANCEL
        assert len(received) == 1 < len(matches) and set(received) <= matches
        assert final.NumberOfCompletedSuboperations == 1 and final.NumberOfRemainingSuboperations == 2
        # The same association serves the next C-GET in full, and a C-ECHO.
        received.clear()
        again = [int(status.Status) for status, _ in assoc.send_c_get(study_query(second_study), STUDY_ROOT_GET,
                                                                      msg_id=8)]
        assert again[-1] == 0x0000 and len(received) == 1
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()
        ae.shutdown()
