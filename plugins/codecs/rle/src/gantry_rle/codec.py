"""RLE Lossless (1.2.840.10008.1.2.5), PS3.5 Annex G.

A frame is a 64-byte header (segment count, then 15 little-endian offsets) and one PackBits
segment per byte of each sample: sample 1's most significant byte plane first, its least
significant last, then sample 2 and so on (G.2). So colour is always stored by plane, whatever
Planar Configuration says; decoding interleaves it to (rows, columns, samples).

Decoding takes what Annex G can express: Bits Allocated 8, 16 or 32, any photometric
interpretation, signed or not. Encoding is held to PS3.5 Table 8.2.2-1 (see ``ENCODABLE``), plus
Bits Allocated 32 for monochrome (RT Dose and other 32-bit images).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from gantry.pixels import EncodedFrame, checked_frame

if TYPE_CHECKING:
    import numpy as np

    from gantry.pixels import EncodeOptions, PixelInfo

HEADER = struct.Struct("<16L")
MAX_SEGMENTS = 15

# Photometric interpretation -> (samples per pixel, Bits Allocated, signed allowed): PS3.5
# Table 8.2.2-1, with 32 added for monochrome, which Annex G encodes like any other depth.
ENCODABLE: dict[str, tuple[int, tuple[int, ...], bool]] = {
    "MONOCHROME1": (1, (8, 16, 32), True),
    "MONOCHROME2": (1, (8, 16, 32), True),
    "PALETTE COLOR": (1, (8, 16), False),
    "RGB": (3, (8, 16), False),
    "YBR_FULL": (3, (8,), False),
}


def decode_rle(frame: bytes, info: PixelInfo) -> np.ndarray:
    """One RLE frame to (rows, columns[, samples]) in ``info.dtype()``, sign-extended from Bits Stored."""
    nbytes = _bytes_per_sample(info)
    data = memoryview(frame).cast("B")  # segments are sliced from it without copying
    segments = _segments(data, info.samples_per_pixel * nbytes, info)
    planes = _decoded_planes(data, segments, info)
    samples = [_merged(planes[first:first + nbytes]) for first in range(0, len(planes), nbytes)]
    return _keep_bits_stored(_interleaved(samples), info).reshape(info.frame_shape)


def encode_rle(array: Any, info: PixelInfo, options: EncodeOptions | None = None) -> EncodedFrame:
    """One frame, shaped as ``decode_rle`` returns it, to an RLE frame (lossless; ``options`` unused)."""
    import numpy as np

    from gantry_rle.packbits import encode_segment

    check_encodable(info)
    values = checked_frame(array, info)
    nbytes = _bytes_per_sample(info)
    planes = values.astype(values.dtype.newbyteorder(">")).view(np.uint8)
    planes = planes.reshape(info.rows, info.columns, info.samples_per_pixel * nbytes)
    segments = []
    for index in range(planes.shape[2]):
        segment = encode_segment(planes[:, :, index])
        segments.append(segment + b"\x00" * (len(segment) % 2))  # each segment even-length (G.3)
    offsets = [HEADER.size]
    for segment in segments[:-1]:
        offsets.append(offsets[-1] + len(segment))
    header = HEADER.pack(len(segments), *offsets, *[0] * (MAX_SEGMENTS - len(offsets)))
    data = header + b"".join(segments)
    # The PackBits writer is ours, so check our own work before anything is stored.
    if not np.array_equal(decode_rle(data, info), values):
        raise RuntimeError("internal error: the RLE frame written does not decode to the frame given")
    return EncodedFrame(data=data, photometric_interpretation=info.photometric_interpretation)


def check_encodable(info: PixelInfo) -> None:
    """Raise ValueError, naming the value and what is allowed, for what RLE may not hold."""
    photometric = info.photometric_interpretation
    if photometric not in ENCODABLE:
        raise ValueError(
            f"RLE Lossless cannot encode Photometric Interpretation {photometric!r}; "
            f"allowed (PS3.5 Table 8.2.2-1): {', '.join(ENCODABLE)}"
        )
    samples, allocated, signed = ENCODABLE[photometric]
    if info.samples_per_pixel != samples:
        raise ValueError(f"{photometric} has {samples} sample(s) per pixel, not {info.samples_per_pixel}")
    if info.bits_allocated not in allocated:
        raise ValueError(
            f"RLE Lossless {photometric} allows Bits Allocated {' or '.join(map(str, allocated))}, "
            f"not {info.bits_allocated}"
        )
    if info.signed and not signed:
        raise ValueError(f"RLE Lossless {photometric} must be unsigned (Pixel Representation 0), not signed")
    if not 1 <= info.bits_stored <= info.bits_allocated:
        raise ValueError(f"Bits Stored {info.bits_stored} does not fit Bits Allocated {info.bits_allocated}")


def _bytes_per_sample(info: PixelInfo) -> int:
    if info.bits_allocated not in (8, 16, 32):
        raise ValueError(f"RLE Lossless here handles Bits Allocated 8, 16 or 32, not {info.bits_allocated}")
    return info.bits_allocated // 8


def _segments(frame: bytes, expected: int, info: PixelInfo) -> list[tuple[int, int]]:
    """Start and stop of each segment, from the header, checked against the frame's size."""
    if expected > MAX_SEGMENTS:
        raise ValueError(f"{info.samples_per_pixel} samples of {info.bits_allocated} bits need {expected} "
                         f"RLE segments; a header holds at most {MAX_SEGMENTS}")
    if len(frame) < HEADER.size:
        raise ValueError(f"the RLE frame is {len(frame)} bytes, shorter than its {HEADER.size}-byte header")
    count, *offsets = HEADER.unpack_from(frame)
    if count != expected:
        raise ValueError(
            f"the RLE header declares {count} segments; {info.samples_per_pixel} sample(s) of "
            f"{info.bits_allocated} bits need {expected}"
        )
    starts = offsets[:count]
    if starts[0] != HEADER.size:
        raise ValueError(f"the first RLE segment starts at byte {starts[0]}, not {HEADER.size} (G.5)")
    stops = [*starts[1:], len(frame)]
    for index, (start, stop) in enumerate(zip(starts, stops)):
        if not start < stop <= len(frame):
            raise ValueError(
                f"RLE segment {index + 1} spans bytes {start}..{stop} of a {len(frame)}-byte frame: "
                "the header's offsets are damaged or the frame is cut short"
            )
    return list(zip(starts, stops))


def _decoded_planes(data: memoryview, segments: list[tuple[int, int]], info: PixelInfo) -> np.ndarray:
    """Each segment PackBits-decoded into a row of one (segments, pixels) array: the most
    significant byte plane of each sample first. ValueError when a segment holds another size."""
    import imagecodecs
    import numpy as np

    pixels = info.rows * info.columns

    # One byte of room past the image: some writers pad each decoded segment to even length
    # (pydicom#1438), which is tolerated. A segment decoding to more raises, to fewer is caught below.
    planes = np.empty((len(segments), pixels + 1), dtype=np.uint8)
    for index, (start, stop) in enumerate(segments):
        try:
            size = len(imagecodecs.packbits_decode(data[start:stop], out=planes[index]))
        except imagecodecs.ImcdError:
            # Too long for the row, or damaged: decoding it alone says which (and raises if damaged).
            size = len(imagecodecs.packbits_decode(data[start:stop]))
        if not pixels <= size <= pixels + 1:
            raise ValueError(
                f"RLE segment {index + 1} of {len(segments)} decodes to {size} bytes; "
                f"{info.rows} x {info.columns} pixels need {pixels}"
            )
    return planes[:, :pixels]


def _merged(planes: np.ndarray) -> np.ndarray:
    """The byte planes of one sample, most significant first (G.2), as native unsigned words.

    Whole-plane numpy operations: widening each plane and adding it in is several times cheaper
    than writing each plane into every n-th byte of the words (a strided copy), and than
    imagecodecs' ``dicomrle_decode``, which interleaves byte by byte."""
    if len(planes) == 1:
        return planes[0]
    words = planes[0].astype(f"u{len(planes)}")
    for plane in planes[1:]:
        words *= 256  # the same as <<= 8, which numpy does at half the speed
        words |= plane
    return words


def _interleaved(samples: list[np.ndarray]) -> np.ndarray:
    """(pixels,) for one sample, else (pixels, samples): RLE stores colour by plane (G.2)."""
    import numpy as np

    return samples[0] if len(samples) == 1 else np.stack(samples, axis=-1)


def _keep_bits_stored(words: np.ndarray, info: PixelInfo) -> np.ndarray:
    """``words`` (unsigned, decoded here, so changed in place) as ``info.dtype()`` holding Bits
    Stored bits only: masked when unsigned, sign-extended when signed (PS3.5 8.1.1). The kernel's
    ``as_stored`` does the same on a copy; the copy is what this decoder can do without."""
    unused = words.dtype.itemsize * 8 - info.bits_stored
    if info.signed:
        values = words.view(info.dtype())
        if unused:
            values <<= unused
            values >>= unused  # arithmetic shift on a signed type
        return values
    if unused:
        words &= (1 << info.bits_stored) - 1
    return words
