"""JPEG-LS Lossless (1.2.840.10008.1.2.4.80) and Near-Lossless (1.2.840.10008.1.2.4.81).

JPEG-LS codes unsigned samples of 2 to 16 bits. DICOM stores a signed value as its two's
complement in Bits Stored bits, and the codec is handed that bit pattern as an unsigned
Bits-Stored-bit sample (-1 at 12 bits is coded as 4095); decoding sign-extends it again. So the
codestream's precision is Bits Stored, and near-lossless errors wrap nowhere but at the sign
boundary (see ``_check_near_lossless_range``).

Decoding is ``imagecodecs.jpegls_decode`` behind a check of the frame header against the dataset.
Encoding goes to CharLS directly (``gantry_jpegls.charls``) to set the precision; without it,
``imagecodecs.jpegls_encode`` is used, which can only write 8 or 16 bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gantry.pixels import EncodedFrame, as_stored, checked_frame, stored_range

from gantry_jpegls import charls
from gantry_jpegls.markers import read_header

if TYPE_CHECKING:
    import numpy as np

    from gantry.pixels import EncodeOptions, PixelInfo

METHOD = "ISO_14495_1"

# PS3.5 Table 8.2.3-1: photometric interpretation -> (samples per pixel, Bits Allocated,
# largest Bits Stored, signed allowed), per transfer syntax. PALETTE COLOR is lossless only.
Profile = tuple[int, tuple[int, ...], int, bool]
LOSSLESS: dict[str, Profile] = {
    "MONOCHROME1": (1, (8, 16), 16, True),
    "MONOCHROME2": (1, (8, 16), 16, True),
    "PALETTE COLOR": (1, (8, 16), 16, False),
    "RGB": (3, (8, 16), 16, False),
    "YBR_FULL": (3, (8,), 8, False),
}
NEAR_LOSSLESS = {key: value for key, value in LOSSLESS.items() if key != "PALETTE COLOR"}


def decode_jpegls(frame: bytes, info: PixelInfo) -> np.ndarray:
    """One JPEG-LS frame to (rows, columns[, samples]) in ``info.dtype()``, sign-extended from Bits Stored."""
    import imagecodecs

    frame = bytes(frame)
    header = read_header(frame)
    _check_header(header, info)
    # A codestream cut short must not reach CharLS 2.4: at many cut points it spends ~3 s of CPU
    # before failing. 0xFFD9 cannot occur inside scan data (a byte after 0xFF there is < 0x80),
    # so a frame ending in EOI (and perhaps the zero padding of its fragment) is whole.
    if not frame.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ValueError("the JPEG-LS codestream does not end with an EOI marker: it is cut short")
    samples = imagecodecs.jpegls_decode(frame)
    if samples.shape != info.frame_shape:  # the header said otherwise: do not trust this result
        raise ValueError(f"CharLS decoded a {samples.shape} frame; the dataset says {info.frame_shape}")
    return as_stored(samples, info)


def encode_jpegls_lossless(array: Any, info: PixelInfo, options: EncodeOptions | None = None) -> EncodedFrame:
    """One frame to a JPEG-LS Lossless codestream (``options`` unused)."""
    return _encode(array, info, LOSSLESS, near=0)


def encode_jpegls_near_lossless(array: Any, info: PixelInfo, options: EncodeOptions | None = None) -> EncodedFrame:
    """One frame to a JPEG-LS Near-Lossless codestream: no sample off by more than ``options.near``."""
    from gantry.pixels import EncodeOptions

    return _encode(array, info, NEAR_LOSSLESS, near=(options or EncodeOptions()).near)


def _encode(array: Any, info: PixelInfo, allowed: dict[str, Profile], near: int) -> EncodedFrame:
    _check_encodable(info, allowed, near)
    values = checked_frame(array, info)
    if near:
        _check_near_lossless_range(values, info, near)
    data, precision = charls.encode(_coded_samples(values, info), info.bits_stored, near), info.bits_stored
    if data is None:
        data, precision = _encode_with_imagecodecs(values, info, near), _fallback_precision(info)
    # Lossless frames are not decoded again here (that doubled the cost of encoding). The coding
    # is CharLS's, the JPEG-LS library imagecodecs, pydicom and GDCM all use, conformance-tested
    # against the ITU-T T.87 reference streams; imagecodecs' own jpegls_encode hands its output on
    # unchecked. What this plugin adds around CharLS could go wrong without CharLS noticing: the
    # frame description, NEAR and interleave mode passed through ctypes (read back from the
    # header below) and the sample buffer (type, size and layout checked in charls.encode).
    # Bit-exactness is proven by the tests instead: round trips of every Photometric
    # Interpretation, depth and sign through both encoder paths, and interoperability with
    # dcmtk and GDCM.
    _check_written(data, info, precision, near)
    if near:
        # Near-lossless promises a bound on each sample's error: only decoding shows it is kept.
        _check_near_lossless_error(data, values, info, near)
    return EncodedFrame(data=data, photometric_interpretation=info.photometric_interpretation,
                        lossy=near > 0, method=METHOD if near > 0 else "")


def _coded_samples(values: np.ndarray, info: PixelInfo) -> np.ndarray:
    """The two's complement bit pattern of each value in Bits Stored bits, as an unsigned sample
    (unsigned values, already checked to fit Bits Stored, are their own pattern)."""
    import numpy as np

    bits = info.bits_stored
    pattern = values.view(values.dtype.str.replace("i", "u"))
    if info.signed:
        pattern = pattern & ((1 << bits) - 1)
    return np.ascontiguousarray(pattern, dtype=np.uint8 if bits <= 8 else np.uint16)


def _check_written(data: bytes, info: PixelInfo, precision: int, near: int) -> None:
    """Raise unless the codestream's header and end say what was asked for."""
    header = read_header(data)
    found = (header.rows, header.columns, header.components, header.precision, header.near,
             header.interleave, header.colour_transform)
    wanted = (info.rows, info.columns, info.samples_per_pixel, precision, near,
              charls.INTERLEAVE_SAMPLE if info.samples_per_pixel > 1 else charls.INTERLEAVE_NONE, 0)
    if found != wanted:
        raise RuntimeError(f"internal error: the JPEG-LS frame written says (rows, columns, components, "
                           f"precision, NEAR, interleave, colour transform) = {found}, expected {wanted}")
    if not data.endswith(b"\xff\xd9"):
        raise RuntimeError("internal error: the JPEG-LS frame written does not end with an EOI marker")


def _check_near_lossless_error(data: bytes, values: np.ndarray, info: PixelInfo, near: int) -> None:
    import numpy as np

    decoded = decode_jpegls(data, info)
    error = int(np.abs(decoded.astype(np.int64) - values).max()) if values.size else 0
    if error > near:
        raise RuntimeError(f"internal error: the JPEG-LS frame written decodes {error} away from the frame given")


def _fallback_precision(info: PixelInfo) -> int:
    return 8 if info.bits_stored <= 8 else 16


def _encode_with_imagecodecs(values: np.ndarray, info: PixelInfo, near: int) -> bytes:
    """Fallback without CharLS's C API: precision 8 or 16, whichever holds Bits Stored."""
    import imagecodecs
    import numpy as np

    precision = _fallback_precision(info)
    if near and precision != info.bits_stored:
        raise ValueError(
            f"near-lossless JPEG-LS at Bits Stored {info.bits_stored} needs CharLS's C library, "
            "which could not be loaded (imagecodecs.jpegls_encode can only write 8 or 16 bits)"
        )
    # Signed values sign-extended to the precision, so decoders that extend from the codestream's
    # precision (pydicom) and from Bits Stored (gantry) agree.
    pattern = values.view(values.dtype.str.replace("i", "u")) & ((1 << precision) - 1)
    samples = np.ascontiguousarray(pattern, dtype=np.uint8 if precision == 8 else np.uint16)
    # Room for the worst case: imagecodecs sizes the output by CharLS's estimate, not a bound.
    data = imagecodecs.jpegls_encode(samples, level=near, out=5 * samples.nbytes + 4096)
    return _without_spiff(bytes(data))


def _without_spiff(data: bytes) -> bytes:
    """Drop the SPIFF header imagecodecs writes: DICOM carries the bare interchange format."""
    position = 2
    while data[position : position + 2] == b"\xff\xe8":
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        body = data[position + 4 : position + 2 + length]
        if not (body.startswith(b"SPIFF\x00") or body == b"\x00\x00\x00\x01\xff\xd8"):  # header, end of directory
            break
        position += 2 + length
    return data[:2] + data[position:]


def _check_header(header: Any, info: PixelInfo) -> None:
    """Refuse a frame that is not the dataset's. The precision may exceed Bits Stored (dcmtk
    writes Bits Allocated), as the bits above Bits Stored are dropped; it may not exceed Bits
    Allocated, nor, for signed data, fall short of the sign bit."""
    if info.bits_allocated not in (8, 16):
        raise ValueError(f"JPEG-LS holds Bits Allocated 8 or 16, not {info.bits_allocated}")
    found = (header.rows, header.columns, header.components)
    wanted = (info.rows, info.columns, info.samples_per_pixel)
    if found != wanted:
        raise ValueError("the JPEG-LS frame is {} x {} with {} component(s); "
                         "the dataset says {} x {} with {}".format(*found, *wanted))
    precision = header.precision
    if precision > info.bits_allocated:
        raise ValueError(f"the JPEG-LS frame has {precision}-bit samples; Bits Allocated is {info.bits_allocated}")
    if info.signed and precision < info.bits_stored:
        raise ValueError(f"the JPEG-LS frame has {precision}-bit samples; signed Bits Stored is {info.bits_stored}")
    if header.colour_transform:
        raise ValueError(f"the JPEG-LS frame uses HP colour transform {header.colour_transform}, "
                         "which DICOM does not allow")


def _check_encodable(info: PixelInfo, allowed: dict[str, Profile], near: int) -> None:
    """Raise ValueError, naming the value and what is allowed, for what the syntax may not hold."""
    syntax = "JPEG-LS Lossless" if allowed is LOSSLESS else "JPEG-LS Near-Lossless"
    photometric = info.photometric_interpretation
    if photometric not in allowed:
        raise ValueError(
            f"{syntax} cannot encode Photometric Interpretation {photometric!r}; "
            f"allowed (PS3.5 Table 8.2.3-1): {', '.join(allowed)}"
        )
    samples, allocated, most_stored, signed = allowed[photometric]
    if info.samples_per_pixel != samples:
        raise ValueError(f"{photometric} has {samples} sample(s) per pixel, not {info.samples_per_pixel}")
    if info.bits_allocated not in allocated:
        raise ValueError(
            f"{syntax} {photometric} allows Bits Allocated {' or '.join(map(str, allocated))}, not {info.bits_allocated}"
        )
    if not 2 <= info.bits_stored <= min(most_stored, info.bits_allocated):
        raise ValueError(
            f"{syntax} {photometric} allows Bits Stored 2 to {min(most_stored, info.bits_allocated)} "
            f"with Bits Allocated {info.bits_allocated}, not {info.bits_stored}"
        )
    if info.signed and not signed:
        raise ValueError(f"{syntax} {photometric} must be unsigned (Pixel Representation 0), not signed")
    largest = min(255, ((1 << info.bits_stored) - 1) // 2)  # T.87: NEAR <= min(255, MAXVAL / 2)
    if not 0 <= near <= largest:
        raise ValueError(f"JPEG-LS NEAR must be 0 to {largest} for {info.bits_stored}-bit samples, not {near}")


def _check_near_lossless_range(values: np.ndarray, info: PixelInfo, near: int) -> None:
    """Signed samples within ``near`` of the top or bottom of their range could come back across
    the sign boundary: JPEG-LS keeps the coded (unsigned) sample within 0..2**bits - 1, and there
    the largest positive value and the most negative one are neighbours (0x7FF, 0x800 at 12 bits)."""
    if not info.signed or not values.size:
        return
    low, high = stored_range(info)
    least, most = int(values.min()), int(values.max())
    if least < low + near or most > high - near:
        raise ValueError(
            f"near-lossless JPEG-LS with NEAR {near} can encode signed {info.bits_stored}-bit values "
            f"{low + near}..{high - near} only (an error could flip their sign); the frame holds {least}..{most}"
        )
