"""HTJ2K frames: encoded with imagecodecs' OpenJPH, decoded with imagecodecs' OpenJPEG.

Decoding goes through OpenJPEG (``jpeg2k_decode``, which reads HTJ2K since 2.5) because
imagecodecs 2026.3.6's ``htj2k_decode`` (OpenJPH 0.26.3) returns garbage instead of raising: it
decodes truncated streams without complaint, prints and swallows errors raised while copying
samples out ("Exception ignored in _copy_from_codestream"), and wraps lossy samples that
overshoot the range (255 + 1 comes back as 0). OpenJPEG raises on the first two and clamps.

Encoding (OpenJPH's progression order is RPCL; every stream is checked after encoding):

- 1.2.840.10008.1.2.4.201: reversible 5/3; RGB with the reversible colour transform (YBR_RCT).
- 1.2.840.10008.1.2.4.202: the same, plus what PS3.5 10.18 asks: RPCL, TLM marker segments (with
  one tile-part per resolution, so TLM locates each resolution) and enough decompositions for a
  base resolution of at most 64 pixels.
- 1.2.840.10008.1.2.4.203: irreversible 9/7 at ``EncodeOptions.ratio``; RGB with the irreversible
  colour transform (YBR_ICT).

OpenJPH writes the container's precision (8 or 16 bits) and imagecodecs has no bits-per-sample
option, so for other Bits Stored the SIZ precision is rewritten to Bits Stored, with the samples
first arranged so that the stream decodes to them:

- reversible: decoders use the SIZ precision only for the DC level shift and the final clip (the
  bit-plane counts are in QCD, larger than needed, which is allowed). Unsigned samples are
  encoded as signed ones with that shift (2^(B-1)) already applied, signed ones as they are.
- irreversible: quantisation is relative to the nominal range 2^precision, so samples are scaled
  up to the container's range (shifted left) and a decoder reading B bits gets the original scale.
"""

from __future__ import annotations

from typing import Any

from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo
from gantry.uids import HTJ2K, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL
# HTJ2K (Part 15) keeps the JPEG 2000 Part 1 codestream syntax and the DICOM sample rules:
# one parser and one set of checks, in gantry-j2k.
from gantry_j2k import codestream
from gantry_j2k.samples import as_dataset_samples, check_description, checked_samples, colour_plan, fit_budget

LOSSY_METHOD = "ISO_15444_15"
# -log10 of OpenJPH's quantisation step (imagecodecs' ``level``): the bisection range for a ratio.
# It stops at 1e-5: imagecodecs takes smaller steps as "none given", and OpenJPH's default step
# (1 / 2^bits, coarse for 8 bits) would make the size jump down, breaking the bisection.
STEP_EXPONENTS = (0.0, 5.0)
BASE_RESOLUTION = 64  # PS3.5 10.18: the base resolution of .202 is at most 64 pixels wide and high
MIN_DECOMPOSITIONS = 5  # OpenJPH's default


def decode_htj2k(frame: bytes, info: PixelInfo) -> Any:
    """One HTJ2K frame (a JP2 wrapper is tolerated) to samples as ``gantry.pixels`` says."""
    import imagecodecs

    data = codestream.unwrap_jp2(bytes(frame))
    stream = codestream.read(data)
    check_description(stream, info)
    array = imagecodecs.jpeg2k_decode(data[:stream.length])
    return as_dataset_samples(array, stream, info)


def encode_htj2k_lossless(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    return _encode(array, info, options, lossy=False, rpcl=False,
                   syntax=f"HTJ2K Lossless ({HTJ2K_LOSSLESS})")


def encode_htj2k_rpcl(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    return _encode(array, info, options, lossy=False, rpcl=True,
                   syntax=f"HTJ2K Lossless RPCL ({HTJ2K_LOSSLESS_RPCL})")


def encode_htj2k_lossy(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    return _encode(array, info, options, lossy=True, rpcl=False, syntax=f"HTJ2K ({HTJ2K})")


def _encode(array: Any, info: PixelInfo, options: EncodeOptions, *, lossy: bool, rpcl: bool,
            syntax: str) -> EncodedFrame:
    import imagecodecs

    mct, photometric = colour_plan(info, lossy=lossy, syntax=syntax)
    samples = checked_samples(array, info)
    rewrite = info.bits_stored != samples.dtype.itemsize * 8
    if rewrite:
        samples = _arranged(samples, info, lossy=lossy)
    common: dict[str, Any] = {}
    if samples.ndim == 3:
        common.update(planar=False, rgb=mct)  # interleaved, whatever the shape looks like
    if rpcl:
        common.update(tlm=True, tilepart=imagecodecs.HTJ2K.TILEPART.RESOLUTIONS, resolutions=decompositions(info))
    if lossy:
        budget = info.native_frame_length / _ratio(options)
        data = fit_budget(lambda exponent: imagecodecs.htj2k_encode(
            samples, level=10.0 ** -exponent, reversible=False, **common), *STEP_EXPONENTS, budget)
    else:
        data = imagecodecs.htj2k_encode(samples, reversible=True, **common)
    data = bytes(data)
    if rewrite:
        data = codestream.with_precision(data, info.bits_stored, info.signed)
    _check_encoded(data, info, reversible=not lossy, mct=mct, rpcl=rpcl, syntax=syntax)
    return EncodedFrame(data=data, photometric_interpretation=photometric, lossy=lossy,
                        method=LOSSY_METHOD if lossy else "")


def decompositions(info: PixelInfo) -> int:
    """Wavelet levels: OpenJPH's default, more when needed for a base resolution of at most 64."""
    levels, size = 0, max(info.rows, info.columns)
    while -(-size // (1 << levels)) > BASE_RESOLUTION:
        levels += 1
    return max(levels, MIN_DECOMPOSITIONS)


def _arranged(samples: Any, info: PixelInfo, *, lossy: bool) -> Any:
    """Samples to hand OpenJPH when the SIZ precision will be rewritten to Bits Stored."""
    import numpy as np

    container = samples.dtype.itemsize * 8
    if lossy:
        return np.left_shift(samples, container - info.bits_stored, dtype=samples.dtype)
    if info.signed:
        return samples
    # Values below 2^B < 2^(container - 1) read the same as signed integers: one pass, no cast.
    return np.subtract(samples.view(f"i{samples.dtype.itemsize}"), 1 << (info.bits_stored - 1))


def _ratio(options: EncodeOptions) -> float:
    ratio = float(options.ratio)
    if not ratio > 1.0 or ratio == float("inf"):
        raise ValueError(f"compression ratio {options.ratio}: a lossy HTJ2K ratio must be above 1")
    return ratio


def _check_encoded(data: bytes, info: PixelInfo, *, reversible: bool, mct: bool, rpcl: bool, syntax: str) -> None:
    """What OpenJPH wrote must be what the dataset and the transfer syntax will say: never hand
    on a stream whose header disagrees (a changed imagecodecs or OpenJPH default would)."""
    stream = codestream.read(data)
    check_description(stream, info)
    found = (stream.precision, stream.signed, stream.reversible, stream.mct, codestream.CAP in stream.markers)
    wanted = (info.bits_stored, info.signed, reversible, mct, True)
    if found != wanted:
        raise ValueError(f"OpenJPH wrote (precision, signed, reversible, colour transform, HT capability) = "
                         f"{found}, expected {wanted}")
    if rpcl:
        problems = []
        if stream.progression != "RPCL":
            problems.append(f"progression {stream.progression}, not RPCL")
        if codestream.TLM not in stream.markers:
            problems.append("no TLM marker segment")
        per_resolution = stream.tiles * (stream.decompositions + 1)  # tile-parts TLM can locate resolutions by
        if stream.decompositions < decompositions(info) or stream.tile_parts != per_resolution:
            problems.append(f"{stream.decompositions} decompositions in {stream.tile_parts} tile-parts")
        if problems:
            raise ValueError(f"OpenJPH wrote a codestream that {syntax} does not allow (PS3.5 10.18): "
                             + "; ".join(problems))
