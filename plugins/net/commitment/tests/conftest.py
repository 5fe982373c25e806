"""Fixtures for the gantry-commitment tests: an indexed site (``Session.ingest``) and our listener
on 127.0.0.1; every test checks that it leaves no thread behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

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
def commit_site(tmp_path: Path, make_kernel: Callable[..., Any]) -> CommitSite:
    from gantry.session import Session
    from gantry.testing.datasets import make_dataset, write_dataset

    folder = tmp_path / "archive"
    folder.mkdir()
    references = []
    for instance in range(1, 4):
        dataset = make_dataset(patient=1, study=1, series=1, instance=instance, rows=4, columns=4)
        references.append((str(dataset.SOPClassUID), str(dataset.SOPInstanceUID)))
        write_dataset(dataset, folder / f"{instance}.dcm")
    database = f"sqlite:///{tmp_path / 'index.db'}"
    kernel = make_kernel(config={"storage": {"database": database, "store": str(tmp_path / "store")}},
                         discover=True)
    with Session(database, kernel=kernel) as session:
        session.ingest(folder)
        assert session.count("instance") == len(references)
    return CommitSite(kernel=kernel, references=references)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
