"""Fixtures for the gantry-cget tests: real peers on 127.0.0.1 and free ports.

- ``indexed_site``: an installed kernel whose SQLite index holds ``ARCHIVE`` (generated files,
  ingested with ``Session.ingest``), with ``study_uid(n)`` and ``instances(study_uid)``;
- ``our_listener(kernel, **options)``: our Listener with every active SCP (C-GET among them).

Every test checks that it leaves no thread behind and starts with no breaker state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from gantry_dimse.testing import listeners, no_threads_left

#: (study, series, instances) of one patient: study 1 has three instances in two series.
ARCHIVE = [(1, 1, 2), (1, 2, 1), (2, 1, 1)]


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@attrs.frozen
class IndexedSite:
    kernel: Any
    database: str

    def instances(self, study_uid: str) -> list[dict[str, Any]]:
        backend = self.kernel.open_storage(self.database)
        try:
            return backend.query("instance", {"StudyInstanceUID": study_uid})
        finally:
            backend.close()

    def study_uid(self, study: int) -> str:
        backend = self.kernel.open_storage(self.database)
        try:
            rows = sorted(backend.query("study", {}), key=lambda row: row["StudyInstanceUID"])
        finally:
            backend.close()
        return str(rows[study - 1]["StudyInstanceUID"])


@pytest.fixture
def indexed_site(tmp_path: Path, make_kernel: Callable[..., Any]) -> IndexedSite:
    from gantry.session import Session
    from gantry.testing.datasets import make_dataset, write_dataset

    folder = tmp_path / "archive"
    folder.mkdir()
    for study, series, instances in ARCHIVE:
        for instance in range(1, instances + 1):
            dataset = make_dataset(patient=1, study=study, series=series, instance=instance, rows=4, columns=4)
            write_dataset(dataset, folder / f"{study}-{series}-{instance}.dcm")
    database = f"sqlite:///{tmp_path / 'index.db'}"
    kernel = make_kernel(config={"storage": {"database": database, "store": str(tmp_path / "store")}},
                         discover=True)
    with Session(database, kernel=kernel) as session:
        session.ingest(folder)
    return IndexedSite(kernel=kernel, database=database)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
