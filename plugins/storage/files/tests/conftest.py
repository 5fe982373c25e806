"""Fixtures for the gantry-files tests (pytest runs with --import-mode=importlib, so helpers are
fixtures, not importable names).

- ``store``: a FileStore with fsync on, rooted at ``tmp_path / "store"``;
- ``uids``: the UIDs of one valid instance, as keyword arguments for put/locate;
- ``files_below(folder)``: every file below a folder, as sorted relative paths;
- ``temporaries(folder)``: the temporary files of the store left below a folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gantry_files.atomic import TEMP_PREFIX
from gantry_files.store import FileStore


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "store")


@pytest.fixture
def uids() -> dict[str, str]:
    return {"study_uid": "1.2.826.0.1.3680043.8.498.1",
            "series_uid": "1.2.826.0.1.3680043.8.498.1.2",
            "sop_uid": "1.2.826.0.1.3680043.8.498.1.2.3"}


@pytest.fixture
def files_below() -> Callable[[Path], list[str]]:
    def list_files(folder: Path) -> list[str]:
        return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if not path.is_dir())

    return list_files


@pytest.fixture
def temporaries() -> Callable[[Path], list[Path]]:
    def find(folder: Path) -> list[Path]:
        return [path for path in folder.rglob(TEMP_PREFIX + "*")]

    return find
