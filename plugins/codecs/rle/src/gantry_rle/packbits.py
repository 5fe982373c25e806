"""PackBits for one RLE segment, as PS3.5 G.3.1 requires it.

imagecodecs has no DICOM RLE encoder (``dicomrle_encode`` raises NotImplementedError), and its
``packbits_encode`` sometimes leaves a run of three identical bytes inside a literal run, which
G.3.1 forbids ("Three-byte repeats shall be encoded as Replicate Runs"). So runs are found here
with numpy and written out in plain Python; only the pieces (replicate runs, literal stretches)
are looped over, not the bytes.

G.3.1, in short: a Replicate Run is ``257 - count`` then the byte (2 <= count <= 128); a Literal
Run is ``count - 1`` then the bytes (1 <= count <= 128); -128 (0x80) is never written; runs of
three or more identical bytes are Replicate Runs; no run crosses a row boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAX_RUN = 128
MIN_REPLICATE = 3  # shorter repeats go into literal runs (G.3.1 allows either for two bytes)


def encode_segment(plane: np.ndarray) -> bytes:
    """PackBits-encode one byte plane shaped (rows, columns), row by row; not padded."""
    import numpy as np

    columns = plane.shape[1]
    flat = np.ascontiguousarray(plane, dtype=np.uint8).ravel()
    size = flat.size
    # A run starts where the byte changes, and at every row start (runs never cross rows).
    starts_run = np.empty(size, dtype=bool)
    starts_run[0] = True
    np.not_equal(flat[1:], flat[:-1], out=starts_run[1:])
    starts_run[::columns] = True
    run_starts = np.flatnonzero(starts_run)
    run_lengths = np.diff(np.append(run_starts, size))
    replicate = run_lengths >= MIN_REPLICATE
    replicate_starts = run_starts[replicate]
    replicate_ends = replicate_starts + run_lengths[replicate]
    # Pieces: every replicate run, and the literal stretches between them, cut at row starts.
    bounds = np.unique(np.concatenate((replicate_starts, replicate_ends, np.arange(0, size, columns), [size])))
    is_replicate = np.zeros(bounds.size, dtype=bool)
    is_replicate[np.searchsorted(bounds, replicate_starts)] = True

    data = flat.tobytes()
    out = bytearray()
    for start, stop, repeat in zip(bounds[:-1].tolist(), bounds[1:].tolist(), is_replicate[:-1].tolist()):
        if repeat:
            _replicate(out, data[start], stop - start)
        else:
            for chunk in range(start, stop, MAX_RUN):
                literal = data[chunk:min(chunk + MAX_RUN, stop)]
                out.append(len(literal) - 1)
                out += literal
    return bytes(out)


def _replicate(out: bytearray, value: int, length: int) -> None:
    while length:
        count = min(length, MAX_RUN)
        if length - count == 1:  # never leave a single byte: 129 -> 127 + 2, not 128 + 1
            count -= 1
        out.append(257 - count)
        out.append(value)
        length -= count
