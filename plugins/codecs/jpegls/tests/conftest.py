"""Fixtures for the gantry-jpegls tests (pytest runs with --import-mode=importlib, so helpers are
fixtures, not importable names).

- ``kernel``: an isolated kernel holding only the jpegls plugin;
- ``pixel_info(photometric, syntax=LOSSLESS, **fields)``: a PixelInfo, 20 x 150 unless told;
- ``frames(info, kind, count=1, seed=0, margin=0)``: test frames, ``kind`` "random" (seeded, the
  full Bits Stored range less ``margin`` at each end, both extremes present) or "gradient";
- ``encoder_path``: runs a test twice, encoding through CharLS's C API ("charls") and through
  the ``imagecodecs.jpegls_encode`` fallback ("imagecodecs");
- ``dataset(info, fragments, syntax)``: a pydicom Dataset holding the encapsulated frames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gantry_jpegls.plugin as jpegls_plugin
from gantry.pixels import PixelInfo
from gantry.testing import kernel_with
from gantry.uids import JPEG_LS_LOSSLESS

SAMPLES = {"MONOCHROME1": 1, "MONOCHROME2": 1, "PALETTE COLOR": 1, "RGB": 3, "YBR_FULL": 3}


@pytest.fixture(scope="session")
def kernel() -> Any:
    return kernel_with({"jpegls": jpegls_plugin})


@pytest.fixture(params=["charls", "imagecodecs"])
def encoder_path(request, monkeypatch) -> str:
    from gantry_jpegls import charls

    if request.param == "charls":
        assert charls.library() is not None, "CharLS's C library should load from the imagecodecs wheel"
    else:
        monkeypatch.setattr(charls, "library", lambda: None)
    return request.param


@pytest.fixture(scope="session")
def pixel_info() -> Callable[..., PixelInfo]:
    def make(photometric: str = "MONOCHROME2", syntax: str = JPEG_LS_LOSSLESS, **fields: Any) -> PixelInfo:
        fields.setdefault("rows", 20)
        fields.setdefault("columns", 150)
        fields.setdefault("samples_per_pixel", SAMPLES.get(photometric, 1))
        return PixelInfo(photometric_interpretation=photometric, transfer_syntax=syntax, **fields)

    return make


@pytest.fixture(scope="session")
def frames() -> Callable[..., list[np.ndarray]]:
    def make(info: PixelInfo, kind: str, count: int = 1, seed: int = 0, margin: int = 0) -> list[np.ndarray]:
        bits = info.bits_stored
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if info.signed else (0, (1 << bits) - 1)
        low, high = low + margin, high - margin
        rng = np.random.default_rng(seed)
        out = []
        for number in range(count):
            if kind == "random":
                values = rng.integers(low, high, size=info.frame_shape, endpoint=True, dtype=np.int64)
                values.flat[0], values.flat[1] = low, high
            else:
                rows, columns = info.rows, info.columns
                ramp = np.linspace(low, high, columns).round().astype(np.int64)
                shifts = number * 5 + np.arange(rows)[:, np.newaxis] // 3
                values = ramp[(np.arange(columns) - shifts) % columns]
                if info.samples_per_pixel > 1:
                    values = np.stack([values, values[::-1], np.flip(values, 1)], axis=-1)
            out.append(values.astype(info.dtype()))
        return out

    return make


@pytest.fixture(scope="session")
def dataset() -> Callable[..., Any]:
    from gantry.testing.codecs import encapsulated_dataset

    def make(info: PixelInfo, fragments: list[bytes]) -> Any:
        return encapsulated_dataset(fragments, info, info.transfer_syntax, info.photometric_interpretation)

    return make
