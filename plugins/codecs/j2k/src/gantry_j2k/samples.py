"""What the DICOM pixel description allows, and moving samples between arrays and codestreams.

Shared by the encoder and the decoder; numpy is imported inside the functions so that the plugin
entry module stays light.

The same module ships in gantry-j2k and gantry-htj2k (separate distributions): keep them equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gantry.pixels import MONOCHROME, PixelInfo

if TYPE_CHECKING:
    import numpy as np

    from gantry_j2k.codestream import Codestream

MAX_BITS = 16
# Decoders hand YBR_RCT / YBR_ICT back as RGB, and YBR_FULL_422 at full resolution as YBR_FULL
# (gantry.pixels), so arrays labelled so hold RGB and YBR_FULL samples respectively.
RGB_SAMPLES = ("RGB", "YBR_RCT", "YBR_ICT")
YBR_SAMPLES = ("YBR_FULL", "YBR_FULL_422")


def value_range(bits: int, signed: bool) -> tuple[int, int]:
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def colour_plan(info: PixelInfo, *, lossy: bool, syntax: str) -> tuple[bool, str]:
    """(use the multiple-component transform, Photometric Interpretation of the encoded data),
    or a ValueError naming what PS3.5 8.2.4 / 8.2.14 does not allow."""
    photometric = info.photometric_interpretation
    allowed = "MONOCHROME1, MONOCHROME2, RGB, YBR_FULL" + ("" if lossy else ", PALETTE COLOR")
    if photometric in MONOCHROME or photometric == "PALETTE COLOR":
        if photometric == "PALETTE COLOR" and lossy:
            raise ValueError(f"{syntax} is lossy here: PALETTE COLOR indices must be encoded losslessly "
                             "(PS3.5 8.2.4, 8.2.14); use a lossless transfer syntax")
        if photometric == "PALETTE COLOR" and info.signed:
            raise ValueError("PALETTE COLOR with Pixel Representation 1: palette indices are unsigned")
        _expect_samples(info, 1)
        return False, photometric
    if photometric in RGB_SAMPLES or photometric in YBR_SAMPLES:
        _expect_samples(info, 3)
        if info.signed:
            raise ValueError(f"{photometric} with Pixel Representation 1 (signed): PS3.5 8.2.4 and 8.2.14 "
                             f"allow colour in {syntax} only unsigned")
        if photometric in RGB_SAMPLES:  # colour transform: what PS3.3 asks for RGB in JPEG 2000
            return True, "YBR_ICT" if lossy else "YBR_RCT"
        return False, "YBR_FULL"  # already decorrelated: encoded as is, without a colour transform
    raise ValueError(f"Photometric Interpretation {photometric} cannot be encoded as {syntax}; "
                     f"allowed: {allowed} (and YBR_RCT, YBR_ICT, YBR_FULL_422 arrays, which decoders return "
                     "as RGB and YBR_FULL)")


def _expect_samples(info: PixelInfo, samples: int) -> None:
    if info.samples_per_pixel != samples:
        raise ValueError(f"{info.photometric_interpretation} needs Samples per Pixel {samples}, "
                         f"not {info.samples_per_pixel}")


def checked_samples(array: Any, info: PixelInfo) -> np.ndarray:
    """``array`` in the smallest container that holds Bits Stored (int8/uint8 or int16/uint16),
    after checking its shape and that every value fits Bits Stored."""
    import numpy as np

    if info.bits_stored > MAX_BITS:
        raise ValueError(f"Bits Stored {info.bits_stored}: this encoder handles 1 to {MAX_BITS} bits")
    array = np.asarray(array)
    if array.shape != info.frame_shape:
        raise ValueError(f"array shape {array.shape} does not match the pixel description {info.frame_shape}")
    if array.dtype.kind not in "iub":
        raise ValueError(f"array dtype {array.dtype}: integer samples expected")
    low, high = value_range(info.bits_stored, info.signed)
    if array.size and not _within(array, low, high):
        raise ValueError(f"sample values span {int(array.min())}..{int(array.max())}, outside the range of "
                         f"Bits Stored {info.bits_stored} {'signed' if info.signed else 'unsigned'} "
                         f"({low}..{high})")
    size = 8 if info.bits_stored <= 8 else 16
    return np.ascontiguousarray(array, dtype=f"{'i' if info.signed else 'u'}{size // 8}")


def _within(array: np.ndarray, low: int, high: int) -> bool:
    """Whether every value of ``array`` lies in low..high. A bound that the dtype already keeps
    is not looked at: a uint16 frame of 12-bit samples costs one pass (its maximum), not two."""
    import numpy as np

    floor, ceiling = (0, 1) if array.dtype.kind == "b" else (np.iinfo(array.dtype).min, np.iinfo(array.dtype).max)
    return (floor >= low or int(array.min()) >= low) and (ceiling <= high or int(array.max()) <= high)


def check_description(stream: Codestream, info: PixelInfo) -> None:
    """Raise when the codestream's geometry cannot be the dataset's image."""
    shape = (stream.rows, stream.columns, len(stream.components))
    expected = (info.rows, info.columns, info.samples_per_pixel)
    if shape != expected:
        raise ValueError(f"the codestream holds {shape[0]}x{shape[1]} pixels of {shape[2]} components; the "
                         f"dataset says {expected[0]}x{expected[1]} of {expected[2]}")
    first = stream.components[0]
    if any((c.precision, c.signed) != (first.precision, first.signed) for c in stream.components):
        raise ValueError("the codestream's components differ in precision or signedness")
    if any((c.dx, c.dy) != (1, 1) for c in stream.components):
        raise ValueError("the codestream has subsampled components, which DICOM JPEG 2000 does not allow")
    if first.precision > info.bits_allocated:
        raise ValueError(f"the codestream holds {first.precision}-bit samples; Bits Allocated is "
                         f"{info.bits_allocated}")


def as_dataset_samples(array: Any, stream: Codestream, info: PixelInfo) -> np.ndarray:
    """The decoded samples in ``info.dtype()``, checked against Bits Stored.

    When the codestream's signedness differs from Pixel Representation, the samples are
    reinterpreted as two's complement bit patterns of the codestream precision, as pydicom does
    (some encoders wrote signed pixels as unsigned samples). Values that still do not fit Bits
    Stored raise, rather than being passed on wrapped or clipped.
    """
    import numpy as np

    target = info.dtype()
    if array.shape != info.frame_shape:
        raise ValueError(f"decoded shape {array.shape} does not match the dataset's {info.frame_shape}")
    if stream.precision == info.bits_stored and stream.signed == info.signed:
        return array.astype(target, copy=False)  # the decoder keeps samples within their precision
    values = array.astype(np.int64)
    if stream.signed != info.signed:
        values &= (1 << stream.precision) - 1
        if info.signed:
            values -= (values >> (stream.precision - 1)) << stream.precision
    low, high = value_range(info.bits_stored, info.signed)
    if values.size and (int(values.min()) < low or int(values.max()) > high):
        raise ValueError(f"the codestream holds {stream.precision}-bit {'signed' if stream.signed else 'unsigned'} "
                         f"samples spanning {int(values.min())}..{int(values.max())}, outside Bits Stored "
                         f"{info.bits_stored} {'signed' if info.signed else 'unsigned'} ({low}..{high})")
    return values.astype(target)


def fit_budget(encode_at: Any, low: float, high: float, budget: float, steps: int = 10) -> bytes:
    """The encoding at the largest knob value in [low, high] that fits ``budget`` bytes.

    ``encode_at(knob)`` must give larger streams for larger knobs (more quality). Neither
    imagecodecs encoder offers a target rate, so the ratio is met by bisection; when even
    ``low`` does not fit, its (smallest reachable) stream is returned.
    """
    best = encode_at(high)
    if len(best) <= budget:
        return best
    best = encode_at(low)
    if len(best) > budget:
        return best
    for _ in range(steps):
        middle = (low + high) / 2
        data = encode_at(middle)
        if len(data) <= budget:
            low, best = middle, data
            if len(data) >= 0.95 * budget:  # close enough: each step is a full encode
                break
        else:
            high = middle
    return best
