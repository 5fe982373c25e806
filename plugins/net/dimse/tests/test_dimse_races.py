"""Races in pynetdicom: a response the reactor thread takes goes back to the sender (races.py); a
rejection pynetdicom left unread is still reported as one (associations._unread_answer)."""

from __future__ import annotations

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
