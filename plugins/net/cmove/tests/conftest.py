"""Fixtures for the gantry-cmove tests: real peers on 127.0.0.1 and free ports.

- ``destination``: a dcmtk ``storescp`` (AE ``DEST``) writing into a folder, stopped afterwards;
- ``moving_site``: an installed kernel whose SQLite index holds ``ARCHIVE`` (generated files,
  ingested with ``Session.ingest``) and whose ``cmove.destinations`` lists ``destination``;
- ``our_listener(kernel, **options)``: our Listener with every active SCP (C-MOVE among them).

Every test checks that it leaves no thread behind and starts with no breaker state.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pydicom
import pytest

from gantry_dimse.testing import DCMTK_ENV, dcmtk, free_port, listeners, no_threads_left, wait_until

#: (study, series, instances) of one patient: study 1 has three instances in two series.
ARCHIVE = [(1, 1, 2), (1, 2, 1), (2, 1, 1)]
DESTINATION_AE = "DEST"


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@attrs.frozen
class StoreScp:
    port: int
    folder: Path

    def received(self) -> set[str]:
        return {str(pydicom.dcmread(path).SOPInstanceUID) for path in self.folder.iterdir()}


@pytest.fixture
def destination(tmp_path: Path) -> Iterator[StoreScp]:
    folder = tmp_path / "destination"
    folder.mkdir()
    port = free_port()
    process = subprocess.Popen([dcmtk("storescp"), "-aet", DESTINATION_AE, "-od", str(folder), str(port)],
                               env=DCMTK_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: _accepts(port)), "storescp did not start listening"
        yield StoreScp(port=port, folder=folder)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@attrs.frozen
class MovingSite:
    kernel: Any
    database: str

    def instances(self, study_uid: str) -> set[str]:
        backend = self.kernel.open_storage(self.database)
        try:
            return {row["SOPInstanceUID"] for row in backend.query("instance", {"StudyInstanceUID": study_uid})}
        finally:
            backend.close()

    def study_uid(self, study: int) -> str:
        backend = self.kernel.open_storage(self.database)
        try:
            return sorted(row["StudyInstanceUID"] for row in backend.query("study", {}))[study - 1]
        finally:
            backend.close()


@pytest.fixture
def moving_site(tmp_path: Path, make_kernel: Callable[..., Any], destination: StoreScp) -> MovingSite:
    from gantry.session import Session
    from gantry.testing.datasets import make_dataset, write_dataset

    folder = tmp_path / "archive"
    folder.mkdir()
    for study, series, instances in ARCHIVE:
        for instance in range(1, instances + 1):
            dataset = make_dataset(patient=1, study=study, series=series, instance=instance, rows=4, columns=4)
            write_dataset(dataset, folder / f"{study}-{series}-{instance}.dcm")
    database = f"sqlite:///{tmp_path / 'index.db'}"
    config = {"storage": {"database": database, "store": str(tmp_path / "store")},
              "cmove": {"destinations": [{"ae": DESTINATION_AE, "host": "127.0.0.1", "port": destination.port}]}}
    kernel = make_kernel(config=config, discover=True)
    with Session(database, kernel=kernel) as session:
        session.ingest(folder)
    return MovingSite(kernel=kernel, database=database)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
