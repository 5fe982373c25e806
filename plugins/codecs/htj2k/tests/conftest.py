"""Shared helpers for the gantry-htj2k tests, as fixtures (pytest runs with
``--import-mode=importlib``, so test modules cannot import this file by name).

- ``kernel``: an isolated kernel holding only the htj2k plugin;
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

import attrs
import numpy as np
import pytest

import gantry_htj2k.plugin as htj2k_plugin
from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo, decode_frame, encode_frame
from gantry.testing import kernel_with


def info_for(*, rows: int = 23, columns: int = 17, allocated: int = 16, stored: int = 16, signed: bool = False,
             photometric: str = "MONOCHROME2", frames: int = 1) -> PixelInfo:
    samples = 1 if photometric in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR") else 3
    return PixelInfo(rows=rows, columns=columns, samples_per_pixel=samples, bits_allocated=allocated,
                     bits_stored=stored, pixel_representation=int(signed), photometric_interpretation=photometric,
                     number_of_frames=frames)


def limits(info: PixelInfo) -> tuple[int, int]:
    bits = info.bits_stored
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if info.signed else (0, (1 << bits) - 1)


def make_pixels(info: PixelInfo, content: str = "random", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low, high = limits(info)
    shape = info.frame_shape
    if content == "random":
        array = rng.integers(low, high, size=shape, endpoint=True)
        flat = array.reshape(-1)
        flat[0], flat[-1] = low, high  # both extremes, always
    else:
        y, x = np.mgrid[0:info.rows, 0:info.columns]
        planes = []
        for plane in range(info.samples_per_pixel):
            if content == "gradient":
                base = (x + y + plane) / (info.rows + info.columns + 1)
            else:  # "smooth": what lossy coding is for, with a little noise
                base = (0.5 + 0.22 * np.sin(x / 9 + plane) + 0.22 * np.cos(y / 7 - plane)
                        + rng.normal(0, 0.004, x.shape))
            planes.append(base)
        base = np.stack(planes, axis=-1) if info.samples_per_pixel > 1 else planes[0]
        array = np.clip(np.round(low + base * (high - low)), low, high)
    return array.astype(info.dtype())


class Codec:
    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    def encode(self, array: Any, info: PixelInfo, syntax: str, ratio: float | None = None) -> EncodedFrame:
        options = EncodeOptions() if ratio is None else EncodeOptions(ratio=ratio)
        return encode_frame(self.kernel, array, info, syntax, options)

    def decode(self, data: bytes, info: PixelInfo, syntax: str, photometric: str | None = None) -> np.ndarray:
        stored = attrs.evolve(info, transfer_syntax=syntax,
                              photometric_interpretation=photometric or info.photometric_interpretation)
        return decode_frame(self.kernel, data, stored)


@pytest.fixture
def kernel() -> Any:
    return kernel_with({"htj2k": htj2k_plugin})


@pytest.fixture
def codec(kernel: Any) -> Codec:
    return Codec(kernel)


@pytest.fixture
def pixels() -> Any:
    return make_pixels


@pytest.fixture
def make_info() -> Any:
    return info_for


@pytest.fixture
def value_limits() -> Any:
    return limits


@pytest.fixture
def pydicom_decode(monkeypatch: pytest.MonkeyPatch) -> Any:
    """pydicom's own JPEG 2000 decoding path (its pylibjpeg plugin glue and its J2K sign and
    precision handling) over pylibjpeg-openjpeg. Only the ``pylibjpeg`` umbrella package, which
    merely discovers pylibjpeg-openjpeg's entry points, is missing here: its two lookups are
    supplied from pylibjpeg-openjpeg directly."""
    import openjpeg
    import pydicom.pixels.decoders.pylibjpeg as glue
    from pydicom.pixels.decoders import (HTJ2KDecoder, HTJ2KLosslessDecoder, HTJ2KLosslessRPCLDecoder,
                                         JPEG2000Decoder, JPEG2000LosslessDecoder)

    monkeypatch.setattr(glue, "_DECODERS", {syntax: {"openjpeg": openjpeg.decode_pixel_data}
                                            for syntax in glue._OPENJPEG_SYNTAXES})
    for decoder in (JPEG2000LosslessDecoder, JPEG2000Decoder, HTJ2KLosslessDecoder, HTJ2KLosslessRPCLDecoder,
                    HTJ2KDecoder):
        monkeypatch.delitem(decoder._unavailable, "pylibjpeg", raising=False)
        monkeypatch.setitem(decoder._available, "pylibjpeg", glue._decode_frame)

    def decode(frames: list[bytes], info: PixelInfo, syntax: str, photometric: str) -> np.ndarray:
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.encaps import encapsulate
        from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = syntax
        ds.SOPClassUID = SecondaryCaptureImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.Rows, ds.Columns, ds.SamplesPerPixel = info.rows, info.columns, info.samples_per_pixel
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = info.bits_allocated, info.bits_stored, info.bits_stored - 1
        ds.PixelRepresentation = info.pixel_representation
        ds.PhotometricInterpretation = photometric
        if info.samples_per_pixel > 1:
            ds.PlanarConfiguration = 0
        if len(frames) > 1:
            ds.NumberOfFrames = len(frames)
        ds.PixelData = encapsulate(frames)
        ds["PixelData"].VR = "OB"
        ds.pixel_array_options(as_rgb=False)  # compare samples as stored: no YBR_FULL -> RGB
        return ds.pixel_array

    return decode
