"""An index to test against: generated instances written to a folder and ingested into SQLite.

    site = indexed_site(tmp_path, [make_dataset(study=1, instance=n) for n in (1, 2, 3)])
    site.query("instance", {"StudyInstanceUID": uid})      # rows, through the real backend
    site.kernel                                            # storage.database/store point into tmp_path
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs


@attrs.frozen
class IndexedSite:
    kernel: Any
    database: str
    folder: Path
    """Where the ingested files are."""

    def query(self, level: str, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        backend = self.kernel.open_storage(self.database)
        try:
            return backend.query(level, dict(filters or {}))
        finally:
            backend.close()

    def study_uids(self) -> list[str]:
        return sorted(str(row["StudyInstanceUID"]) for row in self.query("study"))


def indexed_site(tmp_path: str | Path, datasets: Iterable[Any], *,
                 config: Mapping[str, Any] | None = None) -> IndexedSite:
    """Write ``datasets`` under ``tmp_path/archive``, make a kernel over the installed plugins whose
    ``storage`` is a SQLite index and a store folder in ``tmp_path`` (plus ``config``), ingest."""
    from gantry.session import Session
    from gantry.testing.datasets import write_dataset
    from gantry.testing.fixtures import kernel_with

    root = Path(tmp_path)
    folder = root / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    for number, dataset in enumerate(datasets, start=1):
        write_dataset(dataset, folder / f"{number:05d}.dcm")
    database = f"sqlite:///{root / 'index.db'}"
    storage = {"storage": {"database": database, "store": str(root / "store")}}
    kernel = kernel_with(config={**storage, **dict(config or {})}, discover=True)
    with Session(database, kernel=kernel) as session:
        summary = session.ingest([folder], workers=1)
    assert not summary.rejected, summary.rejected
    return IndexedSite(kernel=kernel, database=database, folder=folder)


@attrs.frozen
class LocalSite:
    """An empty site: a kernel over every installed plugin whose ``storage.database`` is a SQLite
    file and whose ``storage.store`` a folder, both in a temporary folder."""

    kernel: Any
    database: str
    store: Path


def local_site(folder: Path) -> LocalSite:
    from gantry.testing.fixtures import kernel_with

    database = f"sqlite:///{folder / 'index.db'}"
    store = folder / "store"
    kernel = kernel_with(config={"storage": {"database": database, "store": str(store)}}, discover=True)
    return LocalSite(kernel=kernel, database=database, store=store)
