"""The C-GET SOP classes of the two query/retrieve models, and the storage contexts a C-GET SCU
offers to receive on (levels and key checks are gantry-cfind's).

An A-ASSOCIATE-RQ holds at most 128 presentation contexts (PS3.8 9.3.2.2); one is the GET SOP
class. An acceptor takes one transfer syntax per context, and a peer can send a compressed
instance as it is only on a context of *its* syntax, so each compressed syntax of a class costs
a context of its own. The 127 are shared out this way:

- **native contexts** (Explicit and Implicit VR LE in one context: any native instance goes on
  it): the common image classes first, then pynetdicom's list of storage classes without the
  retired ones and the rarely archived ones below, in its order, as long as room is left;
- **compressed contexts**, one per (class, syntax) our codecs decode, for the common image
  classes only: ``COMPRESSED_CONTEXTS``, or more when the native ones leave room (43 today);
  the pairs are ranked by the sum of the class's position in ``COMMON_IMAGE_CLASSES`` and the
  syntax's in ``COMPRESSED_ORDER`` (ties: the more common class first). With every codec
  installed CT gets 9 compressed syntaxes, MR 8, CR 7, DX 6, US 5, MG 4, SC 3 and XA 1.

A syntax left out is not lost: a peer that can decompress sends the instance native (our own
C-GET SCP transcodes it losslessly to a syntax we took). A class left out of the native list
cannot be retrieved with C-GET (C-MOVE has no such limit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gantry.uids import (
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
    RLE_LOSSLESS,
)

PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
GET_SOP_CLASSES = {"patient": PATIENT_ROOT_GET, "study": STUDY_ROOT_GET}

MAX_CONTEXTS = 128
COMPRESSED_CONTEXTS = 40
NATIVE_SYNTAXES = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)

_STORAGE = "1.2.840.10008.5.1.4.1.1."
#: Image classes most archives hold, most common first.
COMMON_IMAGE_CLASSES = tuple(_STORAGE + suffix for suffix in (
    "2",        # CT
    "4",        # MR
    "1",        # CR
    "1.1",      # DX for presentation
    "6.1",      # US
    "1.2",      # MG for presentation
    "7",        # Secondary Capture
    "12.1",     # XA
    "3.1",      # US multi-frame
    "20",       # NM
    "128",      # PET
    "12.2",     # RF
    "2.1",      # Enhanced CT
    "4.1",      # Enhanced MR
    "13.1.3",   # Breast Tomosynthesis
    "1.1.1",    # DX for processing
    "77.1.4",   # VL Photographic
    "481.1",    # RT Image
))
#: Compressed syntaxes, the most common in archives first.
COMPRESSED_ORDER = (JPEG_LOSSLESS_SV1, JPEG_BASELINE, JPEG_LS_LOSSLESS, JPEG2000_LOSSLESS, RLE_LOSSLESS,
                    JPEG2000, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LS_NEAR_LOSSLESS, HTJ2K_LOSSLESS,
                    HTJ2K_LOSSLESS_RPCL, HTJ2K)
#: Left out of the native contexts to make room for compressed ones: retired classes and the
#: rarely archived (hardcopy, standalone objects, ophthalmic measurements, surface scans, audio).
LEFT_OUT = frozenset(
    ["1.2.840.10008.5.1.1.27", "1.2.840.10008.5.1.1.29", "1.2.840.10008.5.1.1.30"]
    + [_STORAGE + suffix for suffix in (
        "10", "11", "129", "8", "9", "3", "5", "6", "77.1", "77.2",  # retired
        "78.1", "78.2", "78.3", "78.4", "78.5", "78.6", "78.7", "78.8", "79.1", "80.1", "81.1",
        "77.1.5.3", "68.1", "68.2", "9.4.1", "9.4.2", "88.40", "88.70", "88.69", "4.2", "67",
        "14.2", "77.1.2.1")])


def offered_contexts(compressed: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    """``(storage class, syntaxes)`` contexts within the limit, given the compressed syntaxes our
    codecs decode (see the module docstring)."""
    decodable = set(compressed)
    syntaxes = [uid for uid in COMPRESSED_ORDER if uid in decodable]
    classes = offered_storage_classes()
    budget = max(COMPRESSED_CONTEXTS, MAX_CONTEXTS - 1 - len(classes))
    pairs = sorted(((c, s) for c in range(len(COMMON_IMAGE_CLASSES)) for s in range(len(syntaxes))),
                   key=lambda pair: (sum(pair), pair[0]))[:budget]
    extra = [(COMMON_IMAGE_CLASSES[c], (syntaxes[s],)) for c, s in sorted(pairs)]
    native = [(uid, NATIVE_SYNTAXES) for uid in classes[:MAX_CONTEXTS - 1 - len(extra)]]
    return native + extra


def offered_storage_classes() -> Sequence[str]:
    """The classes given a native context, best first (before the cut to the room left)."""
    from pynetdicom.presentation import StoragePresentationContexts

    listed = [str(context.abstract_syntax) for context in StoragePresentationContexts]
    rest = [uid for uid in listed if uid not in LEFT_OUT and uid not in COMMON_IMAGE_CLASSES]
    return [*COMMON_IMAGE_CLASSES, *rest]
