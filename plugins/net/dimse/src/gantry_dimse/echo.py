"""C-ECHO, the Verification service: the SCU of ``gantry echo`` and the SCP of ``gantry listen``."""

from __future__ import annotations

import time
from typing import Any

from pynetdicom import evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from gantry.transport import EchoResult

from gantry_dimse.services import AssociationLost, DimseChannel, ScpRole

SUCCESS = 0x0000


def echo_scu(channel: DimseChannel) -> EchoResult:
    """One C-ECHO round trip; ``seconds`` covers the DIMSE exchange only (not associating).
    A non-success status is a result, not an error."""

    def send(association: Any) -> EchoResult:
        started = time.perf_counter()
        status = association.send_c_echo()
        if "Status" not in status:
            raise AssociationLost(f"{channel.url}: no C-ECHO response (the association ended or the "
                                  f"DIMSE timeout passed)")
        return EchoResult(ok=status.Status == SUCCESS, status=int(status.Status),
                          seconds=time.perf_counter() - started)

    return channel.run((Verification,), send)


def answer_echo(event: Any) -> int:
    return SUCCESS


def echo_scp(kernel: Any) -> ScpRole:
    return ScpRole(service="C-ECHO", abstract_syntaxes=(Verification,),
                   handlers=((evt.EVT_C_ECHO, answer_echo),))
