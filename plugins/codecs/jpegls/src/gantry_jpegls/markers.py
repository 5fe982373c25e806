"""Read a JPEG-LS codestream's header (ITU-T T.87 / ISO 14495-1 Annex C) up to the first scan.

The decoder checks the frame against the dataset before CharLS runs, so that a frame of another
size, depth or sample count, or one using the HP colour transform DICOM does not allow, is
refused with a message saying which; the encoder tests read back what they wrote.
"""

from __future__ import annotations

from typing import NamedTuple

SOI, SOF55, SOS, LSE, APP8 = 0xD8, 0xF7, 0xDA, 0xF8, 0xE8
# Start-of-frame markers of other JPEG processes (0xC4 DHT, 0xC8 JPG and 0xCC DAC are not frames).
OTHER_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class FrameHeader(NamedTuple):
    precision: int
    rows: int
    columns: int
    components: int
    near: int
    interleave: int
    colour_transform: int
    """HP colour transform id from a CharLS 'mrfx' APP8 segment; 0 when there is none."""


def read_header(data: bytes) -> FrameHeader:
    """The SOF55 frame header and the first SOS; ValueError when they are missing or damaged."""
    if data[:2] != bytes((0xFF, SOI)):
        raise ValueError("not a JPEG codestream: it does not start with an SOI marker")
    position, frame, transform = 2, None, 0
    while True:
        if position + 4 > len(data):
            raise ValueError("the JPEG-LS codestream ends before its first scan")
        if data[position] != 0xFF:
            raise ValueError(f"expected a marker at byte {position} of the JPEG-LS codestream")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        body = data[position + 4 : position + 2 + length]
        if length < 2 or len(body) != length - 2:
            raise ValueError(f"the marker segment 0xFF{marker:02X} at byte {position} is cut short")
        if marker in OTHER_FRAMES:
            raise ValueError(f"the codestream is JPEG (SOF 0xFF{marker:02X}), not JPEG-LS (SOF55)")
        if marker == SOF55:
            if len(body) < 6:
                raise ValueError("the JPEG-LS frame header is too short")
            frame = (body[0], int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big"), body[5])
        elif marker == APP8 and body[:4] == b"mrfx" and len(body) >= 5:
            transform = body[4]
        elif marker == SOS:
            if frame is None:
                raise ValueError("the JPEG-LS scan comes before any frame header (SOF55)")
            count = body[0] if body else 0
            if len(body) < 3 + 2 * count:
                raise ValueError("the JPEG-LS scan header is too short")
            return FrameHeader(*frame, near=body[1 + 2 * count], interleave=body[2 + 2 * count],
                               colour_transform=transform)
        position += 2 + length
