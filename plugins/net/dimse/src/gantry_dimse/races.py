"""Guards against races in pynetdicom's requestor (3.0): a response taken by the wrong thread,
and an abort asked for after the connection already closed.

``Association.send_c_store`` (and the other ``send_*``) pauses the association's reactor thread,
sends the request and waits for the response on the DIMSE queue. The pause is a flag the reactor
sets just *before* it blocks: if the reactor has just come back from that block (the flag still
says "paused") when the sender looks, the sender goes ahead while the reactor goes on to read the
queue. With a fast peer and busy threads the response can be there first: the reactor takes it,
logs "Received unexpected C-STORE service message", drops it, and the sender waits out the DIMSE
timeout (30 s) and aborts the association, failing the rest of its batch. With four associations
sending at once to dcmtk's storescp this happened in one run in three.

:func:`requeue_stolen_responses` wraps that association's ``_serve_request``: a *response* that
reaches it goes back on the DIMSE queue, where the waiting sender picks it up. A response
nobody waits for cannot linger there: a sender that gave up aborted the association.
"""

from __future__ import annotations

from typing import Any


def requeue_stolen_responses(assoc: Any) -> None:
    serve = assoc._serve_request

    def serve_request(msg: Any, context_id: int) -> None:
        if msg is not None and not msg.is_valid_request and not assoc._sent_release:
            assoc.dimse.msg_queue.put((context_id, msg))  # the sender's get_msg takes it
            return
        serve(msg, context_id)

    assoc._serve_request = serve_request


def ignore_abort_after_close(assoc: Any) -> None:
    """Make an A-ABORT request that comes after the transport started closing (state Sta13) a no-op.

    A peer that rejects the association and closes the connection at once can have the DUL
    thread receive the A-ASSOCIATE-RJ and close the socket before the requestor's thread looks at
    the connection; that thread then asks for an A-ABORT, which pynetdicom's state machine has no
    transition for in Sta13: an InvalidEventError ended the DUL thread with a traceback on stderr
    (``gantry echo`` to such a peer printed one). There is nothing left to abort.
    """
    machine = assoc.dul.state_machine
    act = machine.do_action

    def do_action(event: str) -> None:
        if event == "Evt15" and machine.current_state == "Sta13":
            return
        act(event)

    machine.do_action = do_action
