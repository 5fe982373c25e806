"""Entry module: descriptors only (numpy and imagecodecs load when a frame is first coded).

Two descriptors, because an encoder is not told which transfer syntax it encodes for: the
near-lossless one applies ``EncodeOptions.near``, the lossless one never does.
"""

from __future__ import annotations

from gantry import Codec, hookimpl
from gantry.uids import JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_codecs() -> list[Codec]:
    return [
        Codec(
            name="jpegls-lossless",
            description="JPEG-LS Lossless (CharLS): 2 to 16 bits, signed monochrome, RGB, YBR_FULL",
            transfer_syntaxes=(JPEG_LS_LOSSLESS,),
            priority=50,
            decode="gantry_jpegls.codec:decode_jpegls",
            encode="gantry_jpegls.codec:encode_jpegls_lossless",
        ),
        Codec(
            name="jpegls-near-lossless",
            description="JPEG-LS Near-Lossless (CharLS): error per sample at most EncodeOptions.near",
            transfer_syntaxes=(JPEG_LS_NEAR_LOSSLESS,),
            priority=50,
            decode="gantry_jpegls.codec:decode_jpegls",
            encode="gantry_jpegls.codec:encode_jpegls_near_lossless",
        ),
    ]
