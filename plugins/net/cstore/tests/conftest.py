"""Fixtures for the gantry-cstore tests: real peers on 127.0.0.1 and free ports, started and
stopped by the tests.

- ``free_port()``, ``wait_for(condition)``;
- ``storescp(*options)``: dcmtk's storescp (AE ``DCMTK``, TCP_NODELAY=1) writing into ``.out``;
- ``site(tmp_path)``: an installed kernel whose storage is a SQLite file and a store folder in tmp;
- ``our_listener(kernel, **options)``: our Listener with every active SCP (C-ECHO, C-STORE);
- ``ct_folder``: CT files in explicit, implicit and RLE syntaxes, with their native pixel bytes.

Every test checks that it leaves no thread behind and starts with no breaker state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs
import pytest

from gantry.testing.index import LocalSite, local_site

from gantry_dimse.testing import dcmtk_server, free_port as _free_port, listeners, no_threads_left, wait_until


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@pytest.fixture
def free_port() -> Callable[[], int]:
    return _free_port


@pytest.fixture
def wait_for() -> Callable[..., bool]:
    return wait_until


@attrs.frozen
class Peer:
    port: int
    ae_title: str
    out: Path
    log: Path

    @property
    def url(self) -> str:
        return f"dicom://{self.ae_title}@127.0.0.1:{self.port}?calling=GANTRY"


@pytest.fixture
def storescp(tmp_path: Path) -> Iterator[Callable[..., Peer]]:
    with ExitStack() as servers:

        def start(*options: str) -> Peer:
            port = _free_port()
            out = tmp_path / f"storescp-{port}"
            out.mkdir()
            log_path = tmp_path / f"storescp-{port}.log"
            servers.enter_context(dcmtk_server("storescp", ["-v", *options, "-aet", "DCMTK", "-od", str(out), str(port)],
                                               port, log_path))
            return Peer(port=port, ae_title="DCMTK", out=out, log=log_path)

        yield start


@pytest.fixture
def site(tmp_path: Path) -> LocalSite:
    return local_site(tmp_path)


@pytest.fixture
def our_listener() -> Iterator[Callable[..., Any]]:
    with listeners() as start:
        yield start


@attrs.frozen
class CtFolder:
    path: Path
    files: dict[str, str]
    """SOP Instance UID -> transfer syntax UID it was written in."""
    native_pixels: dict[str, bytes]
    """SOP Instance UID -> the native (uncompressed) pixel bytes."""


@pytest.fixture
def ct_folder(tmp_path: Path, installed_kernel: Any) -> CtFolder:
    """Six CT files: two each in Explicit VR LE, Implicit VR LE and RLE Lossless."""
    from gantry.testing.datasets import make_dataset, write_dataset
    from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS
    from gantry_transcode.transcode import transcode_file

    folder = tmp_path / "outgoing"
    (folder / "nested").mkdir(parents=True)
    files: dict[str, str] = {}
    native: dict[str, bytes] = {}
    syntaxes = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS] * 2
    for number, syntax in enumerate(syntaxes, start=1):
        dataset = make_dataset(instance=number, rows=32, columns=32)
        path = folder / ("nested" if number % 2 else "") / f"ct{number}.dcm"
        if syntax == RLE_LOSSLESS:
            plain = write_dataset(dataset, tmp_path / f"plain{number}.dcm")
            outcome = transcode_file(installed_kernel, plain, path, RLE_LOSSLESS)
            assert outcome.ok, outcome.reason
        else:
            write_dataset(dataset, path, transfer_syntax=syntax)
        files[str(dataset.SOPInstanceUID)] = syntax
        native[str(dataset.SOPInstanceUID)] = bytes(dataset.PixelData)
    return CtFolder(path=folder, files=files, native_pixels=native)
