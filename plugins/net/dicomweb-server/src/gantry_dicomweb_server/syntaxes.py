"""Transfer syntaxes for retrieval: which one an instance is sent in, and frame media types.

PS3.18 8.7.3: without a transfer-syntax parameter, ``application/dicom`` means Explicit VR Little
Endian; ``transfer-syntax=*`` lets the server choose, and this one sends the instance as stored
(except Implicit VR Little Endian and Explicit VR Big Endian, which PS3.18 forbids on the web:
they go as Explicit VR Little Endian). Any other syntax is produced losslessly through the
kernel's codecs (``gantry_transcode``): decoding a stored compressed instance to a native syntax,
or encoding into a lossless compressed one. A lossy target is never produced (406).
"""

from __future__ import annotations

from typing import Any

from gantry.uids import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    HTJ2K,
    HTJ2K_LOSSLESS,
    HTJ2K_LOSSLESS_RPCL,
    IMPLICIT_VR_LITTLE_ENDIAN,
    JPEG2000,
    JPEG2000_LOSSLESS,
    JPEG_BASELINE,
    JPEG_EXTENDED,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    LOSSY,
    NATIVE,
    RLE_LOSSLESS,
)

ANY = "*"
#: Not to be sent on the web (PS3.18 8.7.3): Explicit VR Little Endian goes instead.
NOT_ON_THE_WEB = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN})

#: Frame (bulk data) media type of each compressed syntax (PS3.18 Table 8.7.3-4).
FRAME_MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    RLE_LOSSLESS: ("image/dicom-rle", "image/x-dicom-rle"),
    JPEG_BASELINE: ("image/jpeg",), JPEG_EXTENDED: ("image/jpeg",), JPEG_LOSSLESS: ("image/jpeg",),
    JPEG_LOSSLESS_SV1: ("image/jpeg",),
    JPEG_LS_LOSSLESS: ("image/jls", "image/x-jls"), JPEG_LS_NEAR_LOSSLESS: ("image/jls", "image/x-jls"),
    JPEG2000_LOSSLESS: ("image/jp2",), JPEG2000: ("image/jp2",),
    HTJ2K_LOSSLESS: ("image/jphc",), HTJ2K_LOSSLESS_RPCL: ("image/jphc",), HTJ2K: ("image/jphc",),
}


def as_stored(stored: str) -> str:
    """What ``transfer-syntax=*`` sends for an instance stored in ``stored``."""
    return EXPLICIT_VR_LITTLE_ENDIAN if stored in NOT_ON_THE_WEB or not stored else stored


def can_produce(kernel: Any, stored: str, target: str, *, image: bool) -> bool:
    """Whether an instance stored in ``stored`` can be sent in ``target`` without loss."""
    if target == stored:
        return True
    if target in LOSSY or target in NOT_ON_THE_WEB:
        return False
    if not image:  # no pixel data: only a re-encoding between native syntaxes
        return stored in NATIVE and target in NATIVE
    if stored not in NATIVE and kernel.active("decoder", stored) is None:
        return False
    if target in NATIVE:
        return True
    return kernel.active("encoder", target) is not None


def choose(kernel: Any, stored: str, accepted: list[str], *, image: bool) -> str | None:
    """The syntax to send an instance in, from the acceptable ones in order; None if none fits."""
    for syntax in accepted:
        if syntax == ANY:
            return as_stored(stored)
        if can_produce(kernel, stored, syntax, image=image):
            return syntax
    return None


__all__ = ["ANY", "DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN", "EXPLICIT_VR_LITTLE_ENDIAN", "FRAME_MEDIA_TYPES",
           "LOSSY", "NATIVE", "as_stored", "can_produce", "choose"]
