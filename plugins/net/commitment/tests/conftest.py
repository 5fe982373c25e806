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
    database: str
    folder: Path
    """The indexed files."""


def make_commit_site(tmp_path: Path, config: dict[str, Any] | None = None) -> CommitSite:
    """Three indexed CT instances; ``config`` adds to the site's configuration (``[commitment]`` ...)."""
    datasets = [make_dataset(patient=1, study=1, series=1, instance=n, rows=4, columns=4) for n in range(1, 4)]
    site = indexed_site(tmp_path, datasets, config=config)
    references = [(str(d.SOPClassUID), str(d.SOPInstanceUID)) for d in datasets]
    assert len(site.query("instance")) == len(references)
    return CommitSite(kernel=site.kernel, references=references, database=site.database, folder=site.folder)


@pytest.fixture
def commit_site(tmp_path: Path) -> CommitSite:
    return make_commit_site(tmp_path)


@pytest.fixture
def site_with(tmp_path: Path) -> Callable[..., CommitSite]:
    """``site_with(name, config)``: a commit site of its own under ``tmp_path/name``."""
    return lambda name, config=None: make_commit_site(tmp_path / name, config)


def _audit_events(kernel: Any) -> list[Any]:
    backend = kernel.open_storage(kernel.config.storage.database)
    try:
        return [row.event for row in backend.audit_rows()]
    finally:
        backend.close()


@pytest.fixture
def audit_events() -> Callable[[Any], list[Any]]:
    """``audit_events(kernel)``: the audit events in the kernel's ``storage.database``, oldest first."""
    return _audit_events


@pytest.fixture
def requester_kernel(tmp_path: Path) -> Any:
    """A kernel with an empty index of its own: the requesting side, auditing reports it receives."""
    from gantry.testing.fixtures import kernel_with

    folder = tmp_path / "requester"
    folder.mkdir()
    return kernel_with(config={"storage": {"database": f"sqlite:///{folder / 'index.db'}",
                                           "store": str(folder / "store")}}, discover=True)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start
