"""HTJ2K Lossless RPCL (1.2.840.10008.1.2.4.202): what PS3.5 10.18 asks of the codestream.

RPCL progression; enough decompositions for a base resolution of at most 64; TLM marker segments
present. The TLM entries are checked against the real tile-part lengths, and there is one
tile-part per resolution, which is what lets TLM locate each resolution.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from gantry.uids import HTJ2K_LOSSLESS_RPCL
from gantry_j2k import codestream


def tile_part_lengths(data: bytes) -> list[int]:
    offset, lengths = data.index(b"\xff\x90"), []
    while data[offset:offset + 2] == b"\xff\x90":
        (psot,) = struct.unpack_from(">I", data, offset + 6)
        lengths.append(psot)
        offset += psot
    return lengths


def tlm_lengths(data: bytes) -> list[int]:
    """Ptlm of every TLM segment in the main header (ISO/IEC 15444-1 A.7.1)."""
    offset, lengths = 2, []
    while data[offset:offset + 2] != b"\xff\x90":
        marker, length = struct.unpack_from(">HH", data, offset)
        if marker == codestream.TLM:
            stlm = data[offset + 5]
            tile_bytes, part_bytes = (stlm >> 4) & 3, 4 if stlm & 0x40 else 2
            entry, position = tile_bytes + part_bytes, offset + 6
            while position < offset + 2 + length:
                lengths.append(int.from_bytes(data[position + tile_bytes:position + entry], "big"))
                position += entry
        offset += 2 + length
    return lengths


@pytest.mark.parametrize(("rows", "columns", "photometric"), [
    (1, 1, "MONOCHROME2"), (48, 40, "MONOCHROME2"), (300, 257, "MONOCHROME2"), (3, 4100, "MONOCHROME2"),
    (2100, 2, "MONOCHROME2"), (70, 130, "RGB"),
], ids=lambda v: str(v))
def test_rpcl_base_resolution_and_tlm(codec, make_info, pixels, rows, columns, photometric):
    info = make_info(rows=rows, columns=columns, allocated=16, stored=12, photometric=photometric)
    array = pixels(info, "gradient")
    data = codec.encode(array, info, HTJ2K_LOSSLESS_RPCL).data
    stream = codestream.read(data)
    assert stream.progression == "RPCL" and stream.reversible
    base = -(-max(rows, columns) // (1 << stream.decompositions))
    assert base <= 64 and stream.decompositions >= 5
    assert codestream.TLM in stream.markers
    parts = tile_part_lengths(data)
    assert len(parts) == stream.decompositions + 1  # one tile-part per resolution
    assert tlm_lengths(data) == parts
    np.testing.assert_array_equal(codec.decode(data, info, HTJ2K_LOSSLESS_RPCL, "YBR_RCT" if photometric == "RGB"
                                               else photometric), array)
