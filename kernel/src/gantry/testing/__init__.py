"""Helpers for testing Gantry and its plugins, ours and third parties'.

- :mod:`gantry.testing.datasets`: synthetic datasets with planted patient data
  (``make_dataset``, ``write_dataset``, ``PLANTED_PHI``).
- :mod:`gantry.testing.samples`: a sample folder (good files, clutter and damaged files).
- :mod:`gantry.testing.index`: generated instances ingested into a SQLite index (``indexed_site``).
- :mod:`gantry.testing.fixtures`: pytest fixtures, active wherever gantry-kernel is installed:
  ``make_kernel`` (an isolated kernel holding the plugins you give it), ``installed_kernel``,
  ``dicom_file``, ``sample_folder``.

Nothing here imports pydicom or numpy until a helper is called.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Re-export lazily, so `import gantry.testing` stays cheap.
    if name in ("make_dataset", "write_dataset", "PLANTED_PHI"):
        from gantry.testing import datasets

        return getattr(datasets, name)
    if name in ("write_sample_folder",):
        from gantry.testing import samples

        return samples.write_sample_folder
    if name in ("kernel_with",):
        from gantry.testing import fixtures

        return fixtures.kernel_with
    raise AttributeError(f"module 'gantry.testing' has no attribute {name!r}")


__all__ = ["PLANTED_PHI", "kernel_with", "make_dataset", "write_dataset", "write_sample_folder"]
