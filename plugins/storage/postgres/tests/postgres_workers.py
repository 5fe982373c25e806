"""What the child processes of ``test_postgres_processes`` do.

Each child is a ``multiprocessing`` 'spawn' process running ``runpy.run_path(this file,
init_globals={"TASK": name, "ARGS": {...}}, run_name="__main__")``: a fresh interpreter that
imports gantry_postgres itself and shares nothing with the test process but the server. (The
file is run by path because test folders are not importable packages.)
"""

from __future__ import annotations

import time
from typing import Any

from gantry.storage import AuditEvent
from gantry.testing.storage import synthetic_records
from gantry_postgres.backend import open_backend


def append_audit(url: str, worker: int, rounds: int, start: Any) -> None:
    """Append ``rounds`` batches of 1 to 3 events, all workers starting at once."""
    backend = open_backend(url)
    start.wait(timeout=60)
    for round in range(rounds):
        backend.audit([AuditEvent(actor=f"process-{worker}", action="tick", detail={"round": round})]
                      * (1 + round % 3))
    backend.close()


def open_fresh(url: str, start: Any, versions: Any) -> None:
    """Open (and so migrate) the database the moment every worker is ready."""
    start.wait(timeout=60)
    backend = open_backend(url)
    versions.put(backend.schema_version())
    backend.close()


def hold_transaction(url: str, inside: Any) -> None:
    """Commit one study, then sit inside a transaction holding three more and the audit lock."""
    backend = open_backend(url)
    backend.index(synthetic_records(1))  # committed: 1 study, 100 instances
    with backend.transaction():
        backend.index(synthetic_records(3, first_study=1))
        backend.audit([AuditEvent(actor="doomed", action="never.committed")])
        inside.set()
        time.sleep(120)  # killed here


TASKS = {"append_audit": append_audit, "open_fresh": open_fresh, "hold_transaction": hold_transaction}

if __name__ == "__main__":
    TASKS[globals()["TASK"]](**globals()["ARGS"])
