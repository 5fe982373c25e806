"""pytest fixtures for Gantry plugin authors (loaded through the ``pytest11`` entry point).

    def test_my_codec_wins(make_kernel):
        kernel = make_kernel(plugins={"mine": my_plugin_module})
        assert kernel.active("decoder", JPEG2000).provider == "my-j2k"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest


def kernel_with(
    plugins: Mapping[str, Any] | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    discover: bool = False,
    env: Mapping[str, str] | None = None,
) -> Any:
    """An isolated Kernel holding exactly ``plugins`` (plus installed ones if ``discover``).

    ``config`` is a mapping shaped like ``gantry.toml`` (``{"plugins": {"disable": [...]}}``).
    """
    from gantry.config import parse_config
    from gantry.kernel import Kernel

    return Kernel(parse_config(config or {}, source="test configuration", env=env or {}),
                  plugins=plugins, discover=discover)


@pytest.fixture
def make_kernel() -> Callable[..., Any]:
    """Factory fixture: ``make_kernel(plugins={...}, config={...}, discover=False)``."""
    return kernel_with


@pytest.fixture
def installed_kernel() -> Any:
    """A kernel over every plugin installed in this environment, with an empty configuration."""
    return kernel_with(discover=True)


@pytest.fixture
def dicom_file(tmp_path: Any) -> Callable[..., str]:
    """Factory fixture: ``dicom_file(name="x.dcm", **make_dataset_options) -> path``."""
    from gantry.testing.datasets import make_dataset, write_dataset

    def make(name: str = "image.dcm", *, preamble: bool = True, transfer_syntax: str | None = None,
             **options: Any) -> str:
        return write_dataset(make_dataset(**options), tmp_path / name, preamble=preamble,
                             transfer_syntax=transfer_syntax)

    return make


@pytest.fixture
def sample_folder(tmp_path: Any) -> tuple[Any, dict[str, list[str]]]:
    """A folder of good files, clutter and damaged files: ``(path, {"dicom": [...], ...})``."""
    from gantry.testing.samples import write_sample_folder

    folder = tmp_path / "sample"
    return folder, write_sample_folder(folder)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One real PostgreSQL server for the test session (see :mod:`gantry.testing.postgres`).

    ``postgres_server.create_database(name)`` gives each test its own database URL.
    """
    from gantry.testing.postgres import PostgresServer

    if not PostgresServer.available():
        pytest.fail("PostgreSQL is not installed: `make test` installs the Debian package "
                    "'postgresql' (initdb and pg_ctl are looked for on PATH and under "
                    "/usr/lib/postgresql/*/bin)")
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def orthanc_server() -> Iterator[Any]:
    """One real Orthanc (with DICOMweb) for the test session (see :mod:`gantry.testing.orthanc`).

    Tests share it: call ``orthanc_server.clear()`` first when a test counts what is stored, and
    ``orthanc_server.add_modality(name, ae, port)`` to point it at a listener of the test's own.
    """
    from gantry.testing.orthanc import OrthancServer

    if not OrthancServer.available():
        pytest.fail("Orthanc is not installed: `make test` installs the Debian packages 'orthanc' and "
                    "'orthanc-dicomweb'")
    server = OrthancServer.start()
    yield server
    server.stop()
