"""Entry module: the descriptor only (pynetdicom loads when first used)."""

from __future__ import annotations

from gantry import DimseService, hookimpl

GANTRY_API_VERSION = "1.0"

PRIORITY = 50


@hookimpl
def gantry_dimse_services() -> list[DimseService]:
    return [
        DimseService(name="commitment", service="N-ACTION", priority=PRIORITY,
                     scu="gantry_commitment.scu:request_commitment",
                     scp="gantry_commitment.scp:commitment_scp",
                     description="Storage Commitment Push Model: request commitment (N-ACTION, "
                                 "N-EVENT-REPORT on the same association), and answer it from the index"),
    ]
