"""Fixtures for the gantry-commitment tests: an indexed site (``Session.ingest``) and our listener
on 127.0.0.1; every test checks that it leaves no thread behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from gantry.testing.datasets import make_dataset
from gantry.testing.index import indexed_site

from gantry_dimse.testing import listeners, no_threads_left


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@attrs.frozen
class CommitSite:
    kernel: Any
    references: list[tuple[str, str]]
    """``(SOPClassUID, SOPInstanceUID)`` of every indexed instance."""


@pytest.fixture
def commit_site(tmp_path: Path) -> CommitSite:
    datasets = [make_dataset(patient=1, study=1, series=1, instance=n, rows=4, columns=4) for n in range(1, 4)]
    site = indexed_site(tmp_path, datasets)
    references = [(str(d.SOPClassUID), str(d.SOPInstanceUID)) for d in datasets]
    assert len(site.query("instance")) == len(references)
    return CommitSite(kernel=site.kernel, references=references)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
