"""Fixtures for the gantry-cmove tests: real peers on 127.0.0.1 and free ports.

- ``destination``: a dcmtk ``storescp`` (AE ``DEST``) writing into a folder, stopped afterwards;
- ``moving_site``: an installed kernel whose SQLite index holds ``ARCHIVE`` (generated files,
  ingested with ``Session.ingest``) and whose ``cmove.destinations`` lists ``destination``;
- ``our_listener(kernel, **options)``: our Listener with every active SCP (C-MOVE among them).

Every test checks that it leaves no thread behind and starts with no breaker state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pydicom
import pytest

from gantry.testing.datasets import make_dataset
from gantry.testing.index import IndexedSite, indexed_site

from gantry_dimse.testing import dcmtk_server, free_port, listeners, no_threads_left

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
    with dcmtk_server("storescp", ["-aet", DESTINATION_AE, "-od", str(folder), str(port)], port,
                      tmp_path / "destination.log"):
        yield StoreScp(port=port, folder=folder)


@pytest.fixture
def moving_site(tmp_path: Path, destination: StoreScp) -> IndexedSite:
    """The archive indexed, with ``DESTINATION_AE`` (the test's storescp) as a move destination."""
    destinations = [{"ae": DESTINATION_AE, "host": "127.0.0.1", "port": destination.port}]
    return indexed_site(tmp_path, [
        make_dataset(patient=1, study=study, series=series, instance=instance, rows=4, columns=4)
        for study, series, instances in ARCHIVE for instance in range(1, instances + 1)],
        config={"cmove": {"destinations": destinations}})


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
