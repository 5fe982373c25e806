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

from gantry.pixels import EncodedFrame

from gantry.pixels import as_stored, checked_frame

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
    import imagecodecs
    import numpy as np

    nbytes = _bytes_per_sample(info)
    frame = bytes(frame)
    segments = _segments(frame, info.samples_per_pixel * nbytes, info)
    pixels = info.rows * info.columns
    planes = np.empty((pixels, info.samples_per_pixel, nbytes), dtype=np.uint8)
    for index, (start, stop) in enumerate(segments):
        decoded = imagecodecs.packbits_decode(frame[start:stop])
        # One byte too many is tolerated: some writers pad the decoded segment to even length
        # (pydicom#1438). Anything else means damage, or a frame of another size.
        if not pixels <= len(decoded) <= pixels + 1:
            raise ValueError(
                f"RLE segment {index + 1} of {len(segments)} decodes to {len(decoded)} bytes; "
                f"{info.rows} x {info.columns} pixels need {pixels}"
            )
        planes[:, index // nbytes, index % nbytes] = np.frombuffer(decoded, dtype=np.uint8, count=pixels)
    words = planes.view(f">u{nbytes}").reshape(info.frame_shape)  # most significant byte first (G.2)
    return as_stored(words, info)


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
