"""Entry module: the descriptor only (numpy and imagecodecs load when a frame is first coded)."""

from __future__ import annotations

from gantry import Codec, hookimpl
from gantry.uids import RLE_LOSSLESS

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_codecs() -> list[Codec]:
    return [
        Codec(
            name="rle",
            description="RLE Lossless (PS3.5 Annex G): PackBits segments per byte plane, 8/16/32 bits",
            transfer_syntaxes=(RLE_LOSSLESS,),
            priority=50,
            decode="gantry_rle.codec:decode_rle",
            encode="gantry_rle.codec:encode_rle",
        )
    ]
