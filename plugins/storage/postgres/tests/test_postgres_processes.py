"""Several processes on one PostgreSQL database: one audit chain, one migration, no half writes.

The children are real processes (multiprocessing 'spawn', see ``postgres_workers.py``), each
with its own connection: what the advisory locks and transactions must hold against.
"""

from __future__ import annotations

import multiprocessing
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gantry.storage import AuditEvent
from gantry.testing.storage import index_record
from gantry_postgres.backend import open_backend

WORKERS = str(Path(__file__).with_name("postgres_workers.py"))
SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def start_worker() -> Iterator[Callable[..., Any]]:
    """``start_worker(task, **args)``: a started child process; all are reaped at the end."""
    started: list[Any] = []

    def start(task: str, **args: Any) -> Any:
        process = SPAWN.Process(target=runpy.run_path, args=(WORKERS,),
                                kwargs={"init_globals": {"TASK": task, "ARGS": args}, "run_name": "__main__"})
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.is_alive():
            process.kill()
        process.join(timeout=30)


def _finish(processes: list[Any]) -> None:
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_two_processes_appending_audit_events_keep_one_chain(pg_url: str, start_worker: Callable[..., Any]) -> None:
    backend = open_backend(pg_url)  # the schema is made before the race (that one is below)
    rounds = 30
    start = SPAWN.Barrier(2)
    _finish([start_worker("append_audit", url=pg_url, worker=n, rounds=rounds, start=start) for n in range(2)])
    per_process = sum(1 + round % 3 for round in range(rounds))
    verification = backend.verify_audit()
    assert (verification.ok, verification.checked) == (True, 2 * per_process)
    rows = backend.audit_rows()
    assert [row.sequence for row in rows] == list(range(1, 2 * per_process + 1))
    for worker in range(2):  # each process's batches stayed in its order
        mine = [row.event.detail["round"] for row in rows if row.event.actor == f"process-{worker}"]
        assert len(mine) == per_process and mine == sorted(mine)
    backend.close()


def test_processes_opening_one_new_database_migrate_it_once(pg_url: str, start_worker: Callable[..., Any],
                                                            pg_admin: Callable[..., Any]) -> None:
    start, versions = SPAWN.Barrier(3), SPAWN.Queue()
    _finish([start_worker("open_fresh", url=pg_url, start=start, versions=versions) for _ in range(3)])
    assert sorted(versions.get(timeout=10) for _ in range(3)) == [1, 1, 1]
    database = pg_url.rsplit("/", 1)[1]
    assert pg_admin("SELECT version FROM schema_migrations", database=database) == [(1,)]
    triggers = pg_admin("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit'::regclass ORDER BY tgname",
                        database=database)
    assert triggers == [("audit_no_truncate",), ("audit_no_update_or_delete",)]


def test_a_process_killed_inside_a_transaction_leaves_nothing_of_it(pg_url: str,
                                                                    start_worker: Callable[..., Any]) -> None:
    inside = SPAWN.Event()
    child = start_worker("hold_transaction", url=pg_url, inside=inside)
    assert inside.wait(timeout=60), "the child never got inside its transaction"
    child.kill()  # SIGKILL: no rollback, no close; the server sees the socket drop
    child.join(timeout=30)
    assert child.exitcode == -9
    # statement_timeout: were the dead child's audit lock still held, this fails instead of hanging.
    backend = open_backend(pg_url, {"statement_timeout": 30})
    assert [backend.count(level) for level in ("study", "series", "instance")] == [1, 4, 100]
    assert backend.audit_rows() == []
    backend.audit([AuditEvent(actor="survivor", action="after.the.crash")])
    backend.index([index_record(5, 1, 1, 1)])
    assert backend.verify_audit().checked == 1 and backend.count("instance") == 101
    backend.close()
