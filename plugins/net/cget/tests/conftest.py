"""Fixtures for the gantry-cget tests: real peers on 127.0.0.1 and free ports.

- ``indexed_site``: an installed kernel whose SQLite index holds ``ARCHIVE`` (generated files,
  ingested with ``Session.ingest``; ``gantry.testing.index``);
- ``our_listener(kernel, **options)``: our Listener with every active SCP (C-GET among them).

Every test checks that it leaves no thread behind and starts with no breaker state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gantry.testing.datasets import make_dataset
from gantry.testing.index import IndexedSite
from gantry.testing.index import indexed_site as indexed_site_of

from gantry_dimse.testing import listeners, no_threads_left

#: (study, series, instances) of one patient: study 1 has three instances in two series.
ARCHIVE = [(1, 1, 2), (1, 2, 1), (2, 1, 1)]


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@pytest.fixture
def indexed_site(tmp_path: Path) -> IndexedSite:
    return indexed_site_of(tmp_path, [
        make_dataset(patient=1, study=study, series=series, instance=instance, rows=4, columns=4)
        for study, series, instances in ARCHIVE for instance in range(1, instances + 1)])


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
