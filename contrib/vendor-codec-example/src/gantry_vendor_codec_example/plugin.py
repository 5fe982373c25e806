"""The whole plugin: one descriptor. The decoder module is imported on first use."""

from gantry import Codec, hookimpl
from gantry.uids import JPEG2000, JPEG2000_LOSSLESS

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_codecs() -> list[Codec]:
    return [
        Codec(
            name="vendor-j2k-openjpeg",
            transfer_syntaxes=(JPEG2000_LOSSLESS, JPEG2000),
            priority=100,
            decode="gantry_vendor_codec_example.codec:decode",
            encode=None,
            description="Example vendor JPEG 2000 decoder (pylibjpeg-openjpeg)",
        )
    ]
