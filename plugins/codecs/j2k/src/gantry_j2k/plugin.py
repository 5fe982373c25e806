"""Entry module: descriptors and hooks only (numpy and imagecodecs load with the first frame).

Two descriptors under one provider name: the encoder is told the target syntax only by which
function the kernel calls (``info.transfer_syntax`` is the source's), so .90 and .91 need their
own encode functions. One name keeps site pins and priorities covering both.
"""

from __future__ import annotations

from gantry import Codec, hookimpl
from gantry.uids import JPEG2000, JPEG2000_LOSSLESS

GANTRY_API_VERSION = "1.0"

NAME = "j2k-openjpeg"


@hookimpl
def gantry_codecs() -> list[Codec]:
    return [
        Codec(name=NAME, transfer_syntaxes=(JPEG2000_LOSSLESS,), priority=50,
              decode="gantry_j2k.codec:decode_j2k", encode="gantry_j2k.codec:encode_j2k_lossless",
              description="JPEG 2000 Lossless (reversible 5/3, RCT for RGB) via imagecodecs/OpenJPEG"),
        Codec(name=NAME, transfer_syntaxes=(JPEG2000,), priority=50,
              decode="gantry_j2k.codec:decode_j2k", encode="gantry_j2k.codec:encode_j2k_lossy",
              description="JPEG 2000 lossy (irreversible 9/7 at a target ratio, ICT for RGB) via imagecodecs/OpenJPEG"),
    ]
