"""Shared helpers for the gantry-j2k tests, as fixtures (pytest runs with
``--import-mode=importlib``, so test modules cannot import this file by name).

- ``kernel``: an isolated kernel holding only the j2k plugin;
- ``codec``: ``codec.encode(array, info, syntax, ratio=None)`` and ``codec.decode(data, info,
  syntax, photometric)``, both through ``gantry.pixels`` so the kernel's checks run;
- ``make_info(rows=, columns=, allocated=, stored=, signed=, photometric=)`` -> PixelInfo and
  ``value_limits(info)`` -> (lowest, highest) sample Bits Stored allows;
- ``pixels(info, content, seed)``: one frame of seeded test samples ("random" over the full range
  of Bits Stored, extremes included, or a smooth "gradient"/"smooth" image);
- ``pydicom_decode(frames, info, syntax, photometric)``: ``ds.pixel_array`` of a real dataset
  holding the encapsulated frames, decoded by pydicom's pylibjpeg glue over pylibjpeg-openjpeg.
"""

from __future__ import annotations

from typing import Any

import pytest

import gantry_j2k.plugin as j2k_plugin
from gantry.pixels import PixelInfo, stored_range
from gantry.testing import kernel_with
from gantry.testing.codecs import CodecHarness, encapsulated_dataset, pixel_info, test_frame


@pytest.fixture
def kernel() -> Any:
    return kernel_with({"j2k": j2k_plugin})


@pytest.fixture
def codec(kernel: Any) -> CodecHarness:
    return CodecHarness(kernel)


@pytest.fixture
def pixels() -> Any:
    return test_frame


@pytest.fixture
def make_info() -> Any:
    return pixel_info


@pytest.fixture
def value_limits() -> Any:
    return stored_range


@pytest.fixture
def pydicom_decode() -> Any:
    """pydicom's own JPEG 2000 path (its pylibjpeg plugin over pylibjpeg-openjpeg, dev
    dependencies), on a real dataset holding the encapsulated frames."""

    def decode(frames: list[bytes], info: PixelInfo, syntax: str, photometric: str) -> Any:
        ds = encapsulated_dataset(frames, info, syntax, photometric)
        ds.pixel_array_options(as_rgb=False, decoding_plugin="pylibjpeg")  # samples as stored
        return ds.pixel_array

    return decode
