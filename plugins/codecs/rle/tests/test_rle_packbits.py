"""The segment encoder follows PS3.5 G.3.1, which imagecodecs' packbits_encode does not always do."""

from __future__ import annotations

import numpy as np
import pytest

from gantry_rle.packbits import encode_segment


def runs(segment: bytes) -> list[tuple[str, bytes]]:
    """('literal', bytes) and ('replicate', bytes) runs; raises on -128 or a cut run."""
    out, position = [], 0
    while position < len(segment):
        header = segment[position]
        assert header != 0x80, "-128 is never written (G.3.1)"
        if header < 0x80:
            literal = segment[position + 1 : position + 2 + header]
            assert len(literal) == header + 1, "literal run cut short"
            out.append(("literal", literal))
            position += 2 + header
        else:
            out.append(("replicate", bytes([segment[position + 1]]) * (257 - header)))
            position += 2
    return out


def rows_of(seed: int) -> np.ndarray:
    """Rows of short and long runs of few values: every run length from 1 to 300 turns up."""
    rng = np.random.default_rng(seed)
    rows, columns = int(rng.integers(1, 5)), int(rng.integers(1, 400))
    values: list[int] = []
    while len(values) < rows * columns:
        values += [int(rng.integers(0, 3))] * int(rng.choice([1, 1, 2, 3, 4, 127, 128, 129, 130, 257, 300]))
    return np.array(values[: rows * columns], dtype=np.uint8).reshape(rows, columns)


@pytest.mark.parametrize("seed", range(40))
def test_segment_follows_g31(seed):
    plane = rows_of(seed)
    decoded_rows, current = [], b""
    for kind, data in runs(encode_segment(plane)):
        if kind == "literal":
            assert not any(data[i] == data[i + 1] == data[i + 2] for i in range(len(data) - 2)), \
                "three identical bytes must be a replicate run"
        assert 1 <= len(data) <= 128 and (kind == "literal" or len(data) >= 2)
        current += data
        assert len(current) <= plane.shape[1], "a run crosses a row boundary"
        if len(current) == plane.shape[1]:
            decoded_rows.append(current)
            current = b""
    assert current == b"" and decoded_rows == [row.tobytes() for row in plane]


def test_imagecodecs_packbits_is_not_g31_conformant():
    # Why the encoder is ours: imagecodecs (2026.3.6) leaves "00 00 00" inside a literal run.
    import imagecodecs

    literal = runs(imagecodecs.packbits_encode(bytes([1, 0, 0, 0, 1, 0, 1, 1, 1, 3])))
    ours = runs(encode_segment(np.array([[1, 0, 0, 0, 1, 0, 1, 1, 1, 3]], np.uint8)))
    assert any(kind == "literal" and b"\x00\x00\x00" in data for kind, data in literal)
    assert ("replicate", b"\x00\x00\x00") in ours and ("replicate", b"\x01\x01\x01") in ours
