"""JPEG (ISO 10918-1) frames for DICOM, over imagecodecs' libjpeg-turbo 3 (``jpeg8_*``).

Which syntax allows what follows PS3.5 Tables 8.2.1-1 (lossy) and 8.2.1-2 (lossless); see
README.md for the matrix and the reasons. numpy and imagecodecs are imported inside the
functions, so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo
from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS_SV1

from gantry_jpeg.stream import StreamInfo, parse

if TYPE_CHECKING:
    import numpy as np

LOSSY_METHOD = "ISO_10918_1"
MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
YBR = ("YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420")
# Decoding is lenient about which colour interpretation a three-component stream declares
# (retired YBR_PARTIAL_* included: their components come back as stored, like YBR_FULL_422).
DECODABLE = {1: (*MONOCHROME, "PALETTE COLOR"), 3: ("RGB", *YBR)}
HIERARCHICAL = frozenset({0xC5, 0xC6, 0xC7, 0xCD, 0xCE, 0xCF})


# --- decoding ------------------------------------------------------------------------------------

def decode_lossy(frame: bytes, info: PixelInfo) -> np.ndarray:
    """JPEG Baseline / Extended frames. A lossless (SOF3) stream found here is decoded too."""
    return _decode(frame, info, require_lossless=False)


def decode_lossless(frame: bytes, info: PixelInfo) -> np.ndarray:
    """JPEG Lossless (Process 14, any predictor) frames: anything but a SOF3 stream is refused,
    so lossy data never passes as lossless."""
    return _decode(frame, info, require_lossless=True)


def _decode(frame: bytes, info: PixelInfo, *, require_lossless: bool) -> np.ndarray:
    import imagecodecs

    stream = parse(frame)
    _check_stream(stream, info, require_lossless)
    arguments, to_ybr = _colour_arguments(stream, info)
    # Only the bytes up to EOI (the padding a fragment may carry is not JPEG data), not copied.
    codestream = frame if len(frame) == stream.length else memoryview(frame)[:stream.length]
    decoded = imagecodecs.jpeg8_decode(codestream, **arguments)
    if decoded.shape != info.frame_shape:
        raise ValueError(f"libjpeg-turbo returned shape {decoded.shape}, expected {info.frame_shape}")
    if to_ybr:
        decoded = _rgb_to_ybr_full(decoded, stream.precision)
    return _samples(decoded, stream, info)


def _check_stream(stream: StreamInfo, info: PixelInfo, require_lossless: bool) -> None:
    """Refuse a stream that does not describe the image the dataset declares."""
    if require_lossless and not stream.lossless:
        raise ValueError(f"a JPEG Lossless transfer syntax holds a {stream.process} stream, not Process 14 (SOF3)")
    if stream.sof in HIERARCHICAL:
        raise ValueError(f"{stream.process} JPEG is not supported (libjpeg-turbo has no hierarchical mode)")
    if (stream.rows, stream.columns) != (info.rows, info.columns):
        raise ValueError(f"the JPEG frame is {stream.rows} x {stream.columns}; "
                         f"the dataset declares {info.rows} x {info.columns}")
    count = len(stream.components)
    if count != info.samples_per_pixel:
        raise ValueError(f"the JPEG frame has {count} components; the dataset declares "
                         f"Samples per Pixel {info.samples_per_pixel}")
    allowed = DECODABLE.get(count, ())
    if info.photometric_interpretation not in allowed:
        raise ValueError(f"Photometric Interpretation {info.photometric_interpretation} cannot be decoded from "
                         f"a {count}-component JPEG stream (allowed: {', '.join(allowed) or 'none'})")
    if info.bits_allocated not in (8, 16):
        raise ValueError(f"Bits Allocated {info.bits_allocated}: JPEG frames decode to 8 or 16 bits")
    if stream.precision > info.bits_allocated:
        raise ValueError(f"the JPEG frame has {stream.precision}-bit samples; the dataset declares "
                         f"Bits Allocated {info.bits_allocated}")


def _colour_arguments(stream: StreamInfo, info: PixelInfo) -> tuple[dict[str, str], bool]:
    """imagecodecs arguments that return the components in the declared interpretation.

    ``colorspace`` overrides what libjpeg guesses the stream holds, ``outcolorspace`` is what it
    returns: equal values mean no conversion (YCbCr stays YCbCr, upsampled to full size). The
    second value says the result still needs RGB -> YBR_FULL (see below)."""
    if len(stream.components) == 1:
        return {}, False
    wanted = "RGB" if info.photometric_interpretation == "RGB" else "YCbCr"
    hint = stream.colour_hint()
    if stream.lossless or hint is None or hint == wanted:
        # Lossless JPEG in DICOM never carries a colour transform: the components are what the
        # dataset says. With no marker to say otherwise the dataset is believed as well.
        return {"colorspace": wanted, "outcolorspace": wanted}, False
    if wanted == "RGB":
        # Declared RGB, but a JFIF/Adobe marker says YCbCr (a writer that did not update the
        # Photometric Interpretation): the stream's own header decides, as PS3.5 8.2.1 says.
        return {"colorspace": "YCbCr", "outcolorspace": "RGB"}, False
    # Declared YBR but marked RGB: libjpeg cannot convert RGB to YCbCr while decoding, so
    # decode the RGB and convert it here, so that the samples match what the dataset declares.
    return {"colorspace": "RGB", "outcolorspace": "RGB"}, True


def _rgb_to_ybr_full(rgb: np.ndarray, precision: int) -> np.ndarray:
    """PS3.3 C.7.6.3.1.2 YBR_FULL from RGB, rounded and clipped to the stream's precision."""
    import numpy as np

    r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
    half, top = 1 << (precision - 1), (1 << precision) - 1
    ybr = np.stack([0.299 * r + 0.587 * g + 0.114 * b,
                    -0.168736 * r - 0.331264 * g + 0.5 * b + half,
                    0.5 * r - 0.418688 * g - 0.081312 * b + half], axis=-1)
    return np.clip(np.rint(ybr), 0, top).astype(rgb.dtype)


def _samples(decoded: np.ndarray, stream: StreamInfo, info: PixelInfo) -> np.ndarray:
    """The decoded (unsigned) samples as the dataset's dtype, sign-extended when signed."""
    import numpy as np

    bits = info.bits_stored
    if info.signed:
        # DICOM puts two's complement samples into JPEG as unsigned bit patterns. A stream with
        # fewer bits than Bits Stored holds them at its own precision.
        width = min(stream.precision, bits)
        values = decoded.astype(np.int32) & ((1 << width) - 1)
        values -= (values >> (width - 1)) << width
        return values.astype(info.dtype())
    if stream.precision > bits:
        top = (1 << bits) - 1
        if stream.lossless:
            if int(decoded.max()) > top:
                raise ValueError(f"decoded sample {int(decoded.max())} does not fit Bits Stored {bits} "
                                 f"(the JPEG frame has {stream.precision}-bit samples)")
        else:
            decoded = np.minimum(decoded, top)  # DCT ringing may overshoot a narrower range
    return np.ascontiguousarray(decoded, dtype=info.dtype())


# --- encoding ------------------------------------------------------------------------------------

def encode_baseline(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    """JPEG Baseline (Process 1), 8 bits: RGB is transformed to YCbCr and subsampled 4:2:2."""
    return _encode_baseline(array, info, options, keep_rgb=False)


def encode_baseline_rgb(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    """JPEG Baseline keeping RGB as RGB: no colour transform, no subsampling (PS3.5 8.2.1 allows
    it, at a much lower compression). Otherwise the same as :func:`encode_baseline`."""
    return _encode_baseline(array, info, options, keep_rgb=True)


def _encode_baseline(array: Any, info: PixelInfo, options: EncodeOptions, *, keep_rgb: bool) -> EncodedFrame:
    import imagecodecs

    name = f"JPEG Baseline ({JPEG_BASELINE})"
    _require(name, info, depths=((8, 8),), signed=False, photometric=(*MONOCHROME, "RGB", "YBR_FULL", "YBR_FULL_422"))
    samples = _samples_for_jpeg(array, info, precision=8)
    quality = _quality(options)
    pi = info.photometric_interpretation
    if info.samples_per_pixel == 1:
        arguments: dict[str, Any] = {}
    elif pi == "RGB" and keep_rgb:
        arguments = {"colorspace": "RGB", "outcolorspace": "RGB"}  # Adobe marker, transform 0
    else:
        # RGB is converted by libjpeg (JFIF YCbCr is YBR_FULL); YBR input goes through as is.
        # Either way the chroma is subsampled 2:1 horizontally, which is what YBR_FULL_422 means.
        source = "RGB" if pi == "RGB" else "YCbCr"
        arguments = {"colorspace": source, "outcolorspace": "YCbCr", "subsampling": "422"}
        pi = "YBR_FULL_422"
    data = imagecodecs.jpeg8_encode(samples, level=quality, optimize=True, **arguments)
    return EncodedFrame(data=bytes(data), photometric_interpretation=pi, lossy=True, method=LOSSY_METHOD)


def encode_extended(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    """JPEG Extended (Process 2 & 4): 8 or 12 bits, monochrome only, as PS3.5 allows."""
    import imagecodecs

    name = f"JPEG Extended ({JPEG_EXTENDED})"
    _require(name, info, depths=((8, 8), (16, 12)), signed=False, photometric=MONOCHROME)
    samples = _samples_for_jpeg(array, info, precision=info.bits_stored)
    data = imagecodecs.jpeg8_encode(samples, level=_quality(options), optimize=True,
                                    bitspersample=info.bits_stored)
    return EncodedFrame(data=bytes(data), photometric_interpretation=info.photometric_interpretation,
                        lossy=True, method=LOSSY_METHOD)


def encode_lossless(array: Any, info: PixelInfo, options: EncodeOptions) -> EncodedFrame:
    """JPEG Lossless, Process 14 with selection value 1 (first-order prediction): what
    1.2.840.10008.1.2.4.70 requires, and a valid Process 14 stream for 1.2.840.10008.1.2.4.57."""
    import imagecodecs

    del options  # lossless: nothing to choose
    name = f"JPEG Lossless ({JPEG_LOSSLESS_SV1} / .57)"
    pi = info.photometric_interpretation
    depths = tuple((8, b) for b in range(1, 9)) + tuple((16, b) for b in range(1, 17))
    _require(name, info, depths=depths, signed=pi in MONOCHROME,
             photometric=(*MONOCHROME, "PALETTE COLOR", "RGB", "YBR_FULL"))
    # JPEG lossless needs at least 2 bits; 1-bit samples are coded at precision 2.
    precision = max(2, info.bits_stored)
    samples = _samples_for_jpeg(array, info, precision=precision)
    arguments: dict[str, Any] = {}
    if pi == "RGB":
        arguments = {"colorspace": "RGB", "outcolorspace": "RGB"}  # Adobe marker + 'R','G','B' ids
    elif pi == "YBR_FULL":
        # No colour marker and one Huffman table for all components. Asking libjpeg-turbo 3.1.3
        # for YCbCr instead writes 9..16-bit streams that libjpeg-turbo itself, Thomas Richter's
        # libjpeg and DCMTK all misread (see README.md); the dataset says what the components are.
        arguments = {"colorspace": "UNKNOWN", "outcolorspace": "UNKNOWN"}
    data = imagecodecs.jpeg8_encode(samples, lossless=True, predictor=1, bitspersample=precision, **arguments)
    return EncodedFrame(data=bytes(data), photometric_interpretation=pi, lossy=False)


def _require(name: str, info: PixelInfo, *, depths: tuple[tuple[int, int], ...], signed: bool,
             photometric: tuple[str, ...]) -> None:
    """Refuse, with a message saying what is allowed, what the transfer syntax does not allow."""
    pi = info.photometric_interpretation
    if pi not in photometric:
        raise ValueError(f"{name} cannot encode Photometric Interpretation {pi}; "
                         f"allowed: {', '.join(photometric)}")
    samples = 1 if pi in (*MONOCHROME, "PALETTE COLOR") else 3
    if info.samples_per_pixel != samples:
        raise ValueError(f"{name}: Photometric Interpretation {pi} needs Samples per Pixel {samples}, "
                         f"not {info.samples_per_pixel}")
    if (info.bits_allocated, info.bits_stored) not in depths:
        allowed = ", ".join(f"{a}/{s}" for a, s in depths) if len(depths) < 5 else \
            "Bits Allocated 8 with Bits Stored 1-8, or 16 with 1-16"
        raise ValueError(f"{name} cannot encode Bits Allocated {info.bits_allocated} / Bits Stored "
                         f"{info.bits_stored}; allowed (allocated/stored): {allowed}")
    if info.signed and not signed:
        raise ValueError(f"{name} cannot encode signed samples (Pixel Representation 1) with "
                         f"Photometric Interpretation {pi}: PS3.5 Table 8.2.1 allows unsigned only")


def _quality(options: EncodeOptions) -> int:
    quality = options.quality
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be an integer from 1 to 100, got {quality!r}")
    return quality


def _samples_for_jpeg(array: Any, info: PixelInfo, *, precision: int) -> np.ndarray:
    """Check the frame against ``info`` and return it as the unsigned samples JPEG codes.

    Values outside Bits Stored are refused rather than masked (and libjpeg-turbo may crash on
    values wider than the precision it is given); signed values become their two's complement
    bit patterns within Bits Stored."""
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise ValueError(f"expected a numpy array, got {type(array).__name__}")
    if array.shape != info.frame_shape:
        raise ValueError(f"the frame has shape {array.shape}; the dataset declares {info.frame_shape}")
    if array.dtype.kind not in "ui":
        raise ValueError(f"the frame has dtype {array.dtype}; JPEG codes integer samples")
    bits = info.bits_stored
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if info.signed else (0, (1 << bits) - 1)
    if array.size:
        smallest, largest = int(array.min()), int(array.max())
        if smallest < low or largest > high:
            kind = "signed" if info.signed else "unsigned"
            raise ValueError(f"sample values {smallest}..{largest} do not fit {bits} {kind} bits "
                             f"(Bits Stored {bits}: {low}..{high})")
    container = np.uint8 if precision <= 8 else np.uint16
    if info.signed:
        return np.ascontiguousarray(array.astype(np.int32) & ((1 << bits) - 1), dtype=container)
    return np.ascontiguousarray(array, dtype=container)
