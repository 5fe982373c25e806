"""Fixtures for the gantry-cfind tests: real peers on 127.0.0.1 and free ports, started and
stopped by the tests.

- ``indexed_site``: an installed kernel whose SQLite index holds ``Archive`` (generated files,
  ingested with ``Session.ingest``): three patients, one with a non-ASCII name;
- ``our_listener(kernel, **options)``: our Listener with every active SCP (C-ECHO, C-FIND ...);
- ``findscu(port, *args)``: dcmtk's findscu (TCP_NODELAY=1) with ``-X``, returning its answers
  read back with pydicom.

Every test checks that it leaves no thread behind and starts with no breaker state.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pydicom
import pytest

from gantry_dimse.testing import DCMTK_ENV, listeners, no_threads_left


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@attrs.frozen
class IndexedSite:
    kernel: Any
    database: str

    def query(self, level: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        backend = self.kernel.open_storage(self.database)
        try:
            return backend.query(level, filters)
        finally:
            backend.close()


#: (patient, study, series, instances, StudyDate, Modality); patient 2 is named MÜLLER^ANNA.
ARCHIVE = [(1, 1, 1, 2, "20240315", "CT"), (1, 1, 2, 1, "20240315", "CT"), (1, 2, 1, 1, "20231120", "MR"),
           (2, 1, 1, 1, "20240601", "CT"), (3, 1, 1, 3, "20220101", "MR")]
NON_ASCII_NAME = "MÜLLER^ANNA"


@pytest.fixture
def indexed_site(tmp_path: Path, make_kernel: Callable[..., Any]) -> IndexedSite:
    from gantry.session import Session
    from gantry.testing.datasets import make_dataset, write_dataset

    folder = tmp_path / "archive"
    folder.mkdir()
    for patient, study, series, instances, date, modality in ARCHIVE:
        for instance in range(1, instances + 1):
            dataset = make_dataset(patient=patient, study=study, series=series, instance=instance,
                                   modality=modality, rows=4, columns=4)
            dataset.StudyDate = dataset.SeriesDate = date
            if patient == 2:
                dataset.SpecificCharacterSet = "ISO_IR 192"
                dataset.PatientName = NON_ASCII_NAME
            if patient == 3:
                dataset.PatientName = "OTHER^PERSON"
            write_dataset(dataset, folder / f"{patient}-{study}-{series}-{instance}.dcm")
    database = f"sqlite:///{tmp_path / 'index.db'}"
    kernel = make_kernel(config={"storage": {"database": database, "store": str(tmp_path / "store")}},
                         discover=True)
    with Session(database, kernel=kernel) as session:
        session.ingest(folder)
        assert session.count("instance") == sum(entry[3] for entry in ARCHIVE)
    return IndexedSite(kernel=kernel, database=database)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start


@attrs.frozen
class FindscuRun:
    returncode: int
    output: str
    answers: list[pydicom.Dataset]


@pytest.fixture
def findscu(tmp_path: Path) -> Callable[..., FindscuRun]:
    program = shutil.which("findscu")
    if program is None:
        pytest.fail("dcmtk is not installed: apt-get install -y dcmtk")
    runs = iter(range(1, 1000))

    def run(port: int, *args: str) -> FindscuRun:
        out = tmp_path / f"findscu-{next(runs)}"
        out.mkdir()
        finished = subprocess.run([program, "-v", "-aet", "DCMTK", "-aec", "OURAE", "-X", "-od", str(out),
                                   *args, "127.0.0.1", str(port)],
                                  capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
        answers = [pydicom.dcmread(path) for path in sorted(out.glob("rsp*.dcm"))]
        return FindscuRun(finished.returncode, finished.stdout + finished.stderr, answers)

    return run
