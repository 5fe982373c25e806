"""races.requeue_stolen_responses: a response the reactor thread takes goes back to the sender."""

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
