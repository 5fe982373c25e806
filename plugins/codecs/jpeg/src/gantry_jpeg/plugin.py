"""Entry module: descriptors and hooks only (numpy and imagecodecs load when a frame is coded)."""

from __future__ import annotations

from gantry import Codec, hookimpl
from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1

GANTRY_API_VERSION = "1.0"

_CODEC = "gantry_jpeg.codec"


@hookimpl
def gantry_codecs() -> list[Codec]:
    return [
        Codec(
            name="jpeg-baseline",
            transfer_syntaxes=(JPEG_BASELINE,),
            priority=50,
            decode=f"{_CODEC}:decode_lossy",
            encode=f"{_CODEC}:encode_baseline",
            description="JPEG Baseline (Process 1), 8-bit, via libjpeg-turbo; RGB is encoded as YBR_FULL_422",
        ),
        Codec(
            name="jpeg-extended",
            transfer_syntaxes=(JPEG_EXTENDED,),
            priority=50,
            decode=f"{_CODEC}:decode_lossy",
            encode=f"{_CODEC}:encode_extended",
            description="JPEG Extended (Process 2 & 4), 8 and 12-bit monochrome, via libjpeg-turbo",
        ),
        Codec(
            name="jpeg-lossless",
            transfer_syntaxes=(JPEG_LOSSLESS, JPEG_LOSSLESS_SV1),
            priority=50,
            decode=f"{_CODEC}:decode_lossless",
            encode=f"{_CODEC}:encode_lossless",
            description="JPEG Lossless (Process 14, any predictor to decode, selection value 1 to encode), "
                        "2-16 bits, via libjpeg-turbo",
        ),
        # Opt-in: pin it (plugins.pin.encoder) to keep RGB as RGB in JPEG Baseline.
        Codec(
            name="jpeg-baseline-rgb",
            transfer_syntaxes=(JPEG_BASELINE,),
            priority=10,
            decode=None,
            encode=f"{_CODEC}:encode_baseline_rgb",
            description="JPEG Baseline encoder that keeps RGB as RGB (no colour transform, no subsampling)",
        ),
    ]
