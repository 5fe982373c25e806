"""Index throughput and query time of the SQLite backend (not a test: tests never time things).

    .venv/bin/python plugins/storage/sqlite/benchmarks/measure.py [--studies 1000] [--repeat 5]

Builds 1,000 studies x 4 series x 25 instances (100,000 instances) in batches of 5,000 records
in a temporary database, then times, best of ``--repeat``: indexing one fresh batch of 5,000,
re-indexing the same 5,000 (every row an update), and ``open + query("study")`` with counts and
ModalitiesInStudy over the whole index, plus a few typical queries.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gantry.testing.storage import synthetic_records
from gantry_sqlite.backend import open_backend

BATCH_STUDIES = 50  # x 100 instances = 5,000 records


def best_of(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'index.db'}"
        backend = open_backend(url)
        batch_times = []
        for first in range(0, options.studies, BATCH_STUDIES):
            records = synthetic_records(BATCH_STUDIES, first_study=first, patients=300)
            start = time.perf_counter()
            backend.index(records)
            batch_times.append(time.perf_counter() - start)
        instances = backend.count("instance")
        reindex = best_of(options.repeat, lambda: backend.index(records))
        backend.close()

        def open_and_query() -> None:
            again = open_backend(url)
            assert len(again.query("study")) == options.studies
            again.close()

        backend = open_backend(url)
        one_study = records[0].attributes["StudyInstanceUID"]
        results = {
            "index 5,000 new records (first batch, empty database)": batch_times[0],
            "index 5,000 new records (last batch)": batch_times[-1],
            "re-index the same 5,000 records (all updates)": reindex,
            f'open + query("study") over {instances:,} instances': best_of(options.repeat, open_and_query),
            'query("study", limit=25)': best_of(options.repeat, lambda: backend.query("study", limit=25)),
            'query("patient") with counts': best_of(options.repeat, lambda: backend.query("patient")),
            "study date range + ModalitiesInStudy + PatientName wildcard": best_of(
                options.repeat, lambda: backend.query("study", {"StudyDate": "20240301-20240630",
                                                                "ModalitiesInStudy": "MR",
                                                                "PatientName": "DOE^PATIENT1*"})),
            "instances of one study": best_of(
                options.repeat, lambda: backend.query("instance", {"StudyInstanceUID": one_study})),
            "files_under one study folder": best_of(options.repeat, lambda: backend.files_under("/archive/7/")),
        }
        backend.close()
    width = max(len(name) for name in results)
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
