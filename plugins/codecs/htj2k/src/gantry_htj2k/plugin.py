"""Entry module: descriptors and hooks only (numpy and imagecodecs load with the first frame).

Three descriptors under one provider name: the encoder is told the target syntax only by which
function the kernel calls (``info.transfer_syntax`` is the source's), so .201, .202 and .203
need their own encode functions. One name keeps site pins and priorities covering all three.
"""

from __future__ import annotations

from gantry import Codec, hookimpl
from gantry.uids import HTJ2K, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL

GANTRY_API_VERSION = "1.0"

NAME = "htj2k-imagecodecs"
DECODE = "gantry_htj2k.codec:decode_htj2k"


@hookimpl
def gantry_codecs() -> list[Codec]:
    return [
        Codec(name=NAME, transfer_syntaxes=(HTJ2K_LOSSLESS,), priority=50,
              decode=DECODE, encode="gantry_htj2k.codec:encode_htj2k_lossless",
              description="HTJ2K Lossless: OpenJPH encodes (reversible, RCT for RGB), OpenJPEG decodes"),
        Codec(name=NAME, transfer_syntaxes=(HTJ2K_LOSSLESS_RPCL,), priority=50,
              decode=DECODE, encode="gantry_htj2k.codec:encode_htj2k_rpcl",
              description="HTJ2K Lossless RPCL: OpenJPH encodes (RPCL, TLM, tile-parts per resolution), "
                          "OpenJPEG decodes"),
        Codec(name=NAME, transfer_syntaxes=(HTJ2K,), priority=50,
              decode=DECODE, encode="gantry_htj2k.codec:encode_htj2k_lossy",
              description="HTJ2K lossy: OpenJPH encodes (irreversible at a target ratio, ICT for RGB), "
                          "OpenJPEG decodes"),
    ]
