"""JPEG 2000 frames through imagecodecs (OpenJPEG): raw J2K codestreams, never JP2.

- 1.2.840.10008.1.2.4.90 is encoded reversibly (5/3 wavelet); RGB with the reversible colour
  transform, so the encoded data is YBR_RCT.
- 1.2.840.10008.1.2.4.91 is encoded lossy (9/7 wavelet) at ``EncodeOptions.ratio``; RGB with the
  irreversible colour transform, so the encoded data is YBR_ICT.
- YBR_FULL is encoded as it is (no colour transform), MONOCHROME1/2 and PALETTE COLOR as one
  component. The codestream's precision is Bits Stored and its signedness Pixel Representation.
"""

from __future__ import annotations

from typing import Any

from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo
from gantry.uids import JPEG2000, JPEG2000_LOSSLESS
from gantry_j2k import codestream
from gantry_j2k.samples import as_dataset_samples, check_description, checked_samples, colour_plan, fit_budget

LOSSY_METHOD = "ISO_15444_1"
# OpenJPEG's fixed-quality target, in dB (imagecodecs' ``level``); the bisection range for a ratio.
PSNR_RANGE = (1.0, 150.0)


def decode_j2k(frame: bytes, info: PixelInfo) -> Any:
    """One JPEG 2000 frame (a JP2 wrapper is tolerated) to samples as ``gantry.pixels`` says."""
    import imagecodecs

    data = codestream.unwrap_jp2(bytes(frame))
    stream = codestream.read(data)
    check_description(stream, info)
    array = imagecodecs.jpeg2k_decode(data[:stream.length])
    return as_dataset_samples(array, stream, info)


def encode_j2k_lossless(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    return _encode(array, info, options, lossy=False, syntax=f"JPEG 2000 Lossless ({JPEG2000_LOSSLESS})")


def encode_j2k_lossy(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    return _encode(array, info, options, lossy=True, syntax=f"JPEG 2000 ({JPEG2000})")


def _encode(array: Any, info: PixelInfo, options: EncodeOptions, *, lossy: bool, syntax: str) -> EncodedFrame:
    import imagecodecs

    mct, photometric = colour_plan(info, lossy=lossy, syntax=syntax)
    samples = checked_samples(array, info)
    common = {"codecformat": "J2K", "bitspersample": info.bits_stored, "mct": mct}
    if samples.ndim == 3:
        common["planar"] = False  # interleaved, whatever the shape looks like
    if not lossy:
        data = imagecodecs.jpeg2k_encode(samples, level=0, reversible=True, **common)
    else:
        budget = info.native_frame_length / _ratio(options)
        data = fit_budget(lambda psnr: imagecodecs.jpeg2k_encode(samples, level=psnr, reversible=False, **common),
                          *PSNR_RANGE, budget)
    _check_encoded(bytes(data), info, reversible=not lossy, mct=mct)
    return EncodedFrame(data=bytes(data), photometric_interpretation=photometric, lossy=lossy,
                        method=LOSSY_METHOD if lossy else "")


def _ratio(options: EncodeOptions) -> float:
    ratio = float(options.ratio)
    if not ratio > 1.0 or ratio == float("inf"):
        raise ValueError(f"compression ratio {options.ratio}: a lossy JPEG 2000 ratio must be above 1")
    return ratio


def _check_encoded(data: bytes, info: PixelInfo, *, reversible: bool, mct: bool) -> None:
    """What imagecodecs wrote must be what the dataset will say: never hand on a stream whose
    header disagrees with the pixel description (a changed imagecodecs default would)."""
    stream = codestream.read(data)
    check_description(stream, info)
    found = (stream.precision, stream.signed, stream.reversible, stream.mct)
    wanted = (info.bits_stored, info.signed, reversible, mct)
    if found != wanted:
        raise ValueError(f"imagecodecs wrote (precision, signed, reversible, colour transform) = {found}, "
                         f"expected {wanted}")
