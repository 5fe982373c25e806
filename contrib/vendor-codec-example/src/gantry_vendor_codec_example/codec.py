"""JPEG 2000 decoding with pylibjpeg-openjpeg."""

from __future__ import annotations

from typing import Any


def decode(frame: bytes, info: Any = None) -> Any:
    """Decode one JPEG 2000 codestream (or JP2 file) to an array.

    When ``info`` gives ``rows`` and ``columns`` (and optionally ``samples_per_pixel``), the
    decoded shape must match: a mismatch raises, so the kernel tries the next decoder instead of
    passing on an image of the wrong geometry.
    """
    import openjpeg

    array = openjpeg.decode(bytes(frame))
    if info is not None and getattr(info, "rows", None):
        samples = getattr(info, "samples_per_pixel", 1) or 1
        expected = (info.rows, info.columns) + ((samples,) if samples > 1 else ())
        if tuple(array.shape) != expected:
            raise ValueError(f"decoded shape {tuple(array.shape)} does not match the dataset's {expected}")
    return array
