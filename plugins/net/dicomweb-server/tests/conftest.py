"""Fixtures for the gantry-dicomweb-server tests: the real server (uvicorn in a thread) on
127.0.0.1 and a free port, over a SQLite index and a store folder in tmp_path.

- ``serve(**settings)``: start a server (``[dicomweb-server]`` settings given as keywords);
- ``instances``: Part 10 files written for the tests: native (one frame and multi-frame), RLE
  Lossless and JPEG-LS Lossless, with their native pixel bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest


@attrs.frozen
class Served:
    server: Any
    kernel: Any
    database: str
    store: Path

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, **options: Any) -> Any:
        from dicomweb_client.api import DICOMwebClient

        return DICOMwebClient(url=self.url, **options)

    def query(self, level: str, filters: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return self.server.context.backend.query(level, filters or {})

    def audit(self) -> list[Any]:
        return self.server.context.backend.audit_rows()

    def stored_files(self) -> list[Path]:
        return sorted(path for path in self.store.rglob("*") if path.is_file()) if self.store.exists() else []


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    from gantry.testing.fixtures import kernel_with

    from gantry_dicomweb_server.server import BackgroundServer, open_context

    servers: list[Any] = []

    def start(*, derive_root: bool = False, **settings: Any) -> Served:
        number = len(servers)
        database = f"sqlite:///{tmp_path / f'index{number}.db'}"
        store = tmp_path / f"store{number}"
        kernel = kernel_with(config={"storage": {"database": database, "store": str(store)},
                                     "dicomweb-server": settings}, discover=True)
        server = BackgroundServer(open_context(kernel))
        if "public_root" not in settings and not derive_root:
            # dicomweb-client sends "Host: 127.0.0.1" without the port (requests' quirk around its
            # own Host header): the root it should see is configured, as behind a proxy.
            server.context.settings = attrs.evolve(server.context.settings, public_root=server.url)
        server.start()
        servers.append(server)
        return Served(server=server, kernel=kernel, database=database, store=store)

    yield start
    for server in servers:
        server.stop()


@attrs.frozen
class Instance:
    path: Path
    sop_uid: str
    series_uid: str
    study_uid: str
    syntax: str
    frames: int
    native: bytes
    """The native pixel bytes (all frames, Explicit VR Little Endian layout)."""

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    def native_frame(self, number: int) -> bytes:
        size = len(self.native) // self.frames
        return self.native[(number - 1) * size: number * size]


@pytest.fixture(scope="session")
def codec_kernel() -> Any:
    from gantry.testing.fixtures import kernel_with

    return kernel_with(discover=True)


@pytest.fixture(scope="session")
def instances(tmp_path_factory: pytest.TempPathFactory, codec_kernel: Any) -> dict[str, Instance]:
    """``native`` (1 frame), ``multiframe`` (native, 3 frames), ``rle`` (2 frames), ``jpegls``
    (1 frame), ``series2`` (native, another series of the study), ``other`` (another study and
    patient). All but ``other`` are in study 1."""
    from gantry.testing.datasets import make_dataset, write_dataset
    from gantry.uids import JPEG_LS_LOSSLESS, RLE_LOSSLESS
    from gantry_transcode.transcode import transcode_file

    folder = tmp_path_factory.mktemp("instances")
    plans = {
        "native": (dict(instance=1), None),
        "multiframe": (dict(instance=2, frames=3), None),
        "rle": (dict(instance=3, frames=2), RLE_LOSSLESS),
        "jpegls": (dict(instance=4), JPEG_LS_LOSSLESS),
        "series2": (dict(series=2, instance=1, modality="MR"), None),
        "other": (dict(study=2, patient=2, instance=1), None),
    }
    made: dict[str, Instance] = {}
    for name, (options, syntax) in plans.items():
        dataset = make_dataset(rows=16, columns=16, **options)
        plain = write_dataset(dataset, folder / f"{name}-plain.dcm")
        path = Path(plain)
        if syntax is not None:
            path = folder / f"{name}.dcm"
            outcome = transcode_file(codec_kernel, plain, path, syntax)
            assert outcome.ok and not outcome.lossy, outcome.reason
        made[name] = Instance(path=path, sop_uid=dataset.SOPInstanceUID, series_uid=dataset.SeriesInstanceUID,
                              study_uid=dataset.StudyInstanceUID,
                              syntax=syntax or str(dataset.file_meta.TransferSyntaxUID),
                              frames=int(dataset.get("NumberOfFrames") or 1), native=bytes(dataset.PixelData))
    return made


@pytest.fixture
def stow_raw() -> Callable[..., Any]:
    """``stow_raw(served, [bytes...], study=None)``: POST exactly those bytes (httpx)."""
    import httpx

    from gantry_dicomweb_server.testing import multipart_body

    def post(served: Served, parts: list[bytes], study: str | None = None, **headers: str) -> Any:
        body, content_type = multipart_body(parts)
        url = served.url + "/studies" + (f"/{study}" if study else "")
        return httpx.post(url, content=body, headers={"Content-Type": content_type, **headers}, timeout=30)

    return post
