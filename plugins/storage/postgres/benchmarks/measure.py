"""Index throughput and query time of the PostgreSQL backend, beside SQLite on the same data
(not a test: tests never time things).

    .venv/bin/python plugins/storage/postgres/benchmarks/measure.py [--studies 1000] [--repeat 5]
        [--url postgresql://user@host/empty_db]

Without ``--url`` it starts a throw-away PostgreSQL server as the tests do (gantry.testing.postgres:
fsync off, 127.0.0.1). Builds 1,000 studies x 4 series x 25 instances (100,000 instances) in
batches of 5,000 records, then times, best of ``--repeat``: indexing one fresh batch of 5,000,
re-indexing the same 5,000 (every row an update), and ``open + query("study")`` with counts and
ModalitiesInStudy over the whole index.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from gantry.testing.storage import synthetic_records
from gantry_postgres.backend import open_backend as open_postgres
from gantry_sqlite.backend import open_backend as open_sqlite

BATCH_STUDIES = 50  # x 100 instances = 5,000 records


def best_of(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(open_backend: Callable[[str], Any], url: str, studies: int, repeat: int) -> dict[str, float]:
    backend = open_backend(url)
    batch_times = []
    for first in range(0, studies, BATCH_STUDIES):
        records = synthetic_records(BATCH_STUDIES, first_study=first, patients=300)
        start = time.perf_counter()
        backend.index(records)
        batch_times.append(time.perf_counter() - start)
    instances = backend.count("instance")
    reindex = best_of(repeat, lambda: backend.index(records))
    backend.close()

    def open_and_query() -> None:
        again = open_backend(url)
        assert len(again.query("study")) == studies
        again.close()

    backend = open_backend(url)
    results = {
        "index 5,000 new records (first batch, empty database)": batch_times[0],
        "index 5,000 new records (mean of all batches)": sum(batch_times) / len(batch_times),
        "re-index the same 5,000 records (all updates)": reindex,
        f'open + query("study") over {instances:,} instances': best_of(repeat, open_and_query),
        'query("study", limit=25)': best_of(repeat, lambda: backend.query("study", limit=25)),
        "study date range + ModalitiesInStudy + PatientName wildcard": best_of(
            repeat, lambda: backend.query("study", {"StudyDate": "20240301-20240630", "ModalitiesInStudy": "MR",
                                                    "PatientName": "DOE^PATIENT1*"})),
    }
    backend.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: start a server)")
    options = parser.parse_args()
    with ExitStack() as stack:
        url = options.url
        if url is None:
            from gantry.testing.postgres import PostgresServer

            server = stack.enter_context(PostgresServer.start())
            url = server.create_database("gantry_benchmark")
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        postgres = measure(open_postgres, url, options.studies, options.repeat)
        sqlite = measure(open_sqlite, f"sqlite:///{folder / 'index.db'}", options.studies, options.repeat)
    width = max(len(name) for name in postgres)
    print(f"{'':<{width}}  {'postgres':>10}  {'sqlite':>10}")
    for name, seconds in postgres.items():
        print(f"{name:<{width}}  {seconds * 1000:7.1f} ms  {sqlite[name] * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
