"""Races in pynetdicom: a response the reactor thread takes goes back to the sender (races.py); a
rejection pynetdicom left unread is still reported as one (associations._unread_answer), and the
abort it then asks for is a no-op, not a traceback (races.ignore_abort_after_close)."""

from __future__ import annotations

import pytest
from pynetdicom.dimse_primitives import C_ECHO


def test_a_response_reaching_the_reactor_goes_back_on_the_dimse_queue(listener, installed_kernel):
    listener = listener()
    with installed_kernel.open_transport(f"dicom://OURAE@127.0.0.1:{listener.port}") as peer:
        assert peer.echo().ok
        with peer.pool.lease(next(iter(peer.pool._idle))) as lease:
            assoc = lease.association
            response = C_ECHO()
            response.MessageIDBeingRespondedTo = 7
            response.Status = 0x0000
            assert not response.is_valid_request
            assoc._serve_request(response, 1)  # as the reactor would, having taken it off the queue
            assert assoc.dimse.msg_queue.get_nowait() == (1, response)
            assert assoc.send_c_echo().Status == 0x0000  # the association is none the worse


def test_a_rejection_pynetdicom_left_unread_is_still_found() -> None:
    """pynetdicom may abort before reading an A-ASSOCIATE-RJ the DUL already queued (see
    associations._unread_answer); the rejection, not "aborted", is what the caller must hear."""
    from pynetdicom import AE
    from pynetdicom.association import Association
    from pynetdicom.pdu_primitives import A_ASSOCIATE, A_P_ABORT

    from gantry_dimse.associations import _unread_answer

    assoc = Association(AE(), "requestor")
    assert _unread_answer(assoc) is None
    rejection = A_ASSOCIATE()
    rejection.result, rejection.result_source, rejection.diagnostic = 0x01, 0x01, 0x07  # called AE not recognised
    assoc.dul.to_user_queue.put(rejection)
    assoc.dul.to_user_queue.put(A_P_ABORT())
    assert _unread_answer(assoc) is rejection
    assert assoc.dul.to_user_queue.qsize() == 2  # looked at, not taken


def test_an_abort_asked_for_after_the_connection_closed_is_a_no_op() -> None:
    from pynetdicom import AE
    from pynetdicom.association import Association
    from pynetdicom.fsm import InvalidEventError

    from gantry_dimse.races import ignore_abort_after_close

    plain, guarded = Association(AE(), "requestor"), Association(AE(), "requestor")
    ignore_abort_after_close(guarded)
    for assoc in (plain, guarded):
        assoc.dul.state_machine.current_state = "Sta13"  # the rejection arrived, the socket is closing
    with pytest.raises(InvalidEventError):  # what pynetdicom does on its own
        plain.dul.state_machine.do_action("Evt15")
    guarded.dul.state_machine.do_action("Evt15")
    assert guarded.dul.state_machine.current_state == "Sta13"
    with pytest.raises(InvalidEventError):  # any other invalid event still is one
        guarded.dul.state_machine.do_action("Evt9")  # a P-DATA request
