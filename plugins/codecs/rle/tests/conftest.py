"""Fixtures for the gantry-rle tests (pytest runs with --import-mode=importlib, so helpers are
fixtures, not importable names).

- ``kernel``: an isolated kernel holding only the rle plugin;
- ``pixel_info(**fields)``: a PixelInfo for RLE Lossless, 24 x 300 unless told;
- ``frames(info, kind, count=1, seed=0)``: test frames, ``kind`` "random" (seeded, the full
  Bits Stored range, both extremes present) or "gradient" (smooth ramps and flat stretches long
  enough for replicate runs to be split at 128);
- ``dataset(info, fragments)``: a pydicom Dataset holding the encapsulated frames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gantry_rle.plugin as rle_plugin
from gantry.pixels import PixelInfo
from gantry.testing import kernel_with
from gantry.uids import RLE_LOSSLESS

SAMPLES = {"MONOCHROME1": 1, "MONOCHROME2": 1, "PALETTE COLOR": 1, "RGB": 3, "YBR_FULL": 3}


@pytest.fixture(scope="session")
def kernel() -> Any:
    return kernel_with({"rle": rle_plugin})


@pytest.fixture(scope="session")
def pixel_info() -> Callable[..., PixelInfo]:
    def make(photometric: str = "MONOCHROME2", **fields: Any) -> PixelInfo:
        fields.setdefault("rows", 24)
        fields.setdefault("columns", 300)
        fields.setdefault("samples_per_pixel", SAMPLES.get(photometric, 1))
        return PixelInfo(photometric_interpretation=photometric, transfer_syntax=RLE_LOSSLESS, **fields)

    return make


def value_range(info: PixelInfo) -> tuple[int, int]:
    bits = info.bits_stored
    if info.signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


@pytest.fixture(scope="session")
def frames() -> Callable[..., list[np.ndarray]]:
    def make(info: PixelInfo, kind: str, count: int = 1, seed: int = 0) -> list[np.ndarray]:
        low, high = value_range(info)
        rng = np.random.default_rng(seed)
        out = []
        for number in range(count):
            if kind == "random":
                values = rng.integers(low, high, size=info.frame_shape, endpoint=True, dtype=np.int64)
                values.flat[0], values.flat[1] = low, high
            else:
                rows, columns = info.rows, info.columns
                ramp = np.linspace(low, high, columns).round().astype(np.int64)
                shifts = number * 7 + np.arange(rows)[:, np.newaxis] // 4  # each band of rows slides
                values = ramp[(np.arange(columns) - shifts) % columns]
                values[: rows // 2, : columns // 2] = low + (high - low) // 3  # flat: runs over 128
                if info.samples_per_pixel > 1:
                    values = np.stack([values, values[::-1], np.flip(values, 1)], axis=-1)
            out.append(values.astype(info.dtype()))
        return out

    return make


@pytest.fixture(scope="session")
def dataset() -> Callable[..., Any]:
    from gantry.testing.codecs import encapsulated_dataset

    def make(info: PixelInfo, fragments: list[bytes]) -> Any:
        return encapsulated_dataset(fragments, info, RLE_LOSSLESS, info.photometric_interpretation)

    return make
