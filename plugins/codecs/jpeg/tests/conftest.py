"""Shared helpers for the gantry-jpeg tests, as fixtures (pytest runs with
``--import-mode=importlib``, so test modules cannot import this file by name).

- ``kernel``: an isolated kernel holding only the jpeg plugin;
- ``info(**fields)``: a :class:`PixelInfo` for a 48 x 40 image with the given fields;
- ``frames(info, content, count)``: ``count`` frames shaped for ``info``: ``"random"`` uses the
  full range of Bits Stored (signed: negative values, and both extremes always present),
  ``"gradient"`` is smooth;
- ``codec(kernel)``: ``encode(array, info, syntax, quality=90) -> EncodedFrame`` and
  ``decode(data, info, syntax) -> array``, both through the kernel (so its checks run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gantry_jpeg.plugin as jpeg_plugin
from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo, decode_frame, encode_frame
from gantry.testing import kernel_with

ROWS, COLUMNS = 48, 40


@pytest.fixture(scope="session")
def kernel() -> Any:
    return kernel_with({"jpeg": jpeg_plugin})


def make_info(**fields: Any) -> PixelInfo:
    values: dict[str, Any] = {"rows": ROWS, "columns": COLUMNS}
    values.update(fields)
    pi = values.get("photometric_interpretation", "MONOCHROME2")
    values.setdefault("samples_per_pixel", 1 if pi in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR") else 3)
    return PixelInfo(**values)


@pytest.fixture
def info() -> Callable[..., PixelInfo]:
    return make_info


def make_frames(info: PixelInfo, content: str = "random", count: int = 1, seed: int = 0) -> np.ndarray:
    """Shape (count, rows, columns[, samples]) in ``info.dtype()``."""
    rng = np.random.default_rng(seed)
    bits = info.bits_stored
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if info.signed else (0, (1 << bits) - 1)
    shape = (count, *info.frame_shape)
    if content == "random":
        data = rng.integers(low, high, size=shape, endpoint=True, dtype=np.int64)
        data[:, 0, 0], data[:, -1, -1] = low, high  # both ends of the range, every frame
    elif content == "gradient":
        yy, xx = np.mgrid[0:info.rows, 0:info.columns]
        base = (0.6 * yy / (info.rows - 1) + 0.4 * xx / (info.columns - 1))
        planes = [base, 1 - base, 0.5 * yy / (info.rows - 1) + 0.25 * np.sin(xx / 7.0) + 0.25]
        unit = base if info.samples_per_pixel == 1 else np.stack(planes, axis=-1)
        # Each frame a little different, and still smooth (no wrap-around edge).
        data = np.stack([np.rint(low + (0.9 * unit + 0.05 * k) * (high - low)) for k in range(count)])
        data = data.astype(np.int64)
    else:
        raise ValueError(content)
    return data.astype(info.dtype())


@pytest.fixture
def frames() -> Callable[..., np.ndarray]:
    return make_frames


class Codec:
    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    def encode(self, array: np.ndarray, info: PixelInfo, syntax: str, quality: int = 90) -> EncodedFrame:
        return encode_frame(self.kernel, array, info, syntax, EncodeOptions(quality=quality))

    def decode(self, data: bytes, info: PixelInfo, syntax: str) -> np.ndarray:
        import attrs

        return decode_frame(self.kernel, data, attrs.evolve(info, transfer_syntax=syntax))


@pytest.fixture
def codec(kernel: Any) -> Codec:
    return Codec(kernel)
