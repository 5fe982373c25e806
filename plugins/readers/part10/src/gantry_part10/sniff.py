"""Tell DICOM from anything else using only the first bytes, without pydicom.

A Part 10 file says so: ``DICM`` at byte 128. A raw dataset (no preamble, no File Meta) does not,
so we walk its first element headers: they must be well formed, start in group 0002 or 0008 and
come in ascending tag order, as the standard requires. Text, images, archives and OS clutter fail
within the first element.
"""

from __future__ import annotations

import struct

PREAMBLE_LENGTH = 128
MAGIC = b"DICM"

VRS = frozenset(
    b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split()
)
# Explicit VRs whose header has two reserved bytes and a 32-bit length.
LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ UC UN UR UT SV UV".split())
FIRST_GROUPS = (0x0002, 0x0008)
UNDEFINED_LENGTH = 0xFFFFFFFF
ELEMENTS_TO_CHECK = 3


def has_preamble(head: bytes) -> bool:
    return head[PREAMBLE_LENGTH : PREAMBLE_LENGTH + 4] == MAGIC


def raw_encoding(head: bytes) -> str | None:
    """``"explicit"`` or ``"implicit"`` (little endian) if ``head`` starts like a raw dataset."""
    head = bytes(head)  # a stream may give a bytearray or memoryview: VRS holds bytes
    for encoding in ("explicit", "implicit"):
        if _walk(head, explicit=encoding == "explicit"):
            return encoding
    return None


def looks_like_dicom(head: bytes) -> bool:
    """The reader's ``sniff``: True for a Part 10 file or a raw little-endian dataset."""
    try:
        return has_preamble(head) or raw_encoding(head) is not None
    except Exception:  # a sniff must never raise; anything odd simply is not DICOM
        return False


def _walk(head: bytes, *, explicit: bool) -> bool:
    position, previous, seen = 0, -1, 0
    while seen < ELEMENTS_TO_CHECK:
        if position + 8 > len(head):
            break  # the next header is cut by the end of what we were shown
        group, element = struct.unpack_from("<HH", head, position)
        if seen == 0 and group not in FIRST_GROUPS:
            return False
        if explicit:
            vr = head[position + 4 : position + 6]
            if vr not in VRS:
                return False
            if vr in LONG_VRS:
                if position + 12 > len(head):
                    break
                if head[position + 6 : position + 8] != b"\x00\x00":
                    return False
                (length,) = struct.unpack_from("<I", head, position + 8)
                position += 12
            else:
                (length,) = struct.unpack_from("<H", head, position + 6)
                position += 8
        else:
            (length,) = struct.unpack_from("<I", head, position + 4)
            position += 8
        tag = (group << 16) | element
        if tag <= previous:
            return False
        previous, seen = tag, seen + 1
        if length == UNDEFINED_LENGTH:
            return True  # a sequence: its items follow; the headers so far were well formed
        if length > 0x7FFFFFFF or length % 2:
            return False  # DICOM values have even lengths
        position += length
    # ELEMENTS_TO_CHECK good headers, or (after a break) good headers up to the end of what we
    # were shown: a value or the next header runs past it.
    return seen >= 1
