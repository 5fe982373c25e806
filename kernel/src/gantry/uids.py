"""Transfer syntax UIDs and the short names the CLI accepts for them.

Plain strings on purpose: importing this module must not import pydicom.
"""

from __future__ import annotations

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81"
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG2000 = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"

#: Short name -> UID, as ``gantry transcode --to`` accepts them.
SHORT_NAMES: dict[str, str] = {
    "implicit-little": IMPLICIT_VR_LITTLE_ENDIAN,
    "explicit-little": EXPLICIT_VR_LITTLE_ENDIAN,
    "deflated": DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    "explicit-big": EXPLICIT_VR_BIG_ENDIAN,
    "rle": RLE_LOSSLESS,
    "jpeg-baseline": JPEG_BASELINE,
    "jpeg-extended": JPEG_EXTENDED,
    "jpeg-lossless": JPEG_LOSSLESS,
    "jpeg-lossless-sv1": JPEG_LOSSLESS_SV1,
    "jpeg-ls": JPEG_LS_LOSSLESS,
    "jpeg-ls-near": JPEG_LS_NEAR_LOSSLESS,
    "j2k-lossless": JPEG2000_LOSSLESS,
    "j2k": JPEG2000,
    "htj2k-lossless": HTJ2K_LOSSLESS,
    "htj2k-rpcl": HTJ2K_LOSSLESS_RPCL,
    "htj2k": HTJ2K,
}

#: Transfer syntaxes whose pixel data is not encapsulated (no codec needed).
NATIVE = frozenset(
    {IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
     EXPLICIT_VR_BIG_ENDIAN}
)


#: Transfer syntaxes whose encoding may lose information: never a target when a copy must hold
#: the same pixels (sending, serving, transcoding on someone's behalf).
LOSSY = frozenset({JPEG_BASELINE, JPEG_EXTENDED, JPEG_LS_NEAR_LOSSLESS, JPEG2000, HTJ2K})


def transfer_syntax(name_or_uid: str) -> str:
    """Resolve a short name or a UID to a UID; a clear ValueError for anything else."""
    if name_or_uid in SHORT_NAMES:
        return SHORT_NAMES[name_or_uid]
    if name_or_uid in SHORT_NAMES.values():
        return name_or_uid
    raise ValueError(
        f"unknown transfer syntax {name_or_uid!r}; use a UID or one of: {', '.join(SHORT_NAMES)}"
    )
