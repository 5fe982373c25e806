"""CharLS's C encoder API through ctypes, for what ``imagecodecs.jpegls_encode`` cannot say.

``imagecodecs.jpegls_encode`` (2026.3.6) always writes the sample precision as 8 or 16 bits
(the array's item size), with a SPIFF header. DICOM wants the precision to be Bits Stored
(PS3.5 8.2.3: the attributes must agree with the codestream), and near-lossless coding needs it:
with a 16-bit precision, 12-bit samples may come back up to NEAR above 4095, outside Bits
Stored. The CharLS library imagecodecs ships exports the C API (stable through CharLS 2.x), so
it is called here directly; ``encode`` returns None when no CharLS 2 library can be loaded, and
the caller falls back to imagecodecs with its limits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import glob
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

INTERLEAVE_NONE, INTERLEAVE_SAMPLE = 0, 2
DESTINATION_TOO_SMALL = 3  # charls_jpegls_errc
_ENCODER = ctypes.c_void_p
_STATUS = ctypes.c_int32


class _FrameInfo(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("bits_per_sample", ctypes.c_int32),
        ("component_count", ctypes.c_int32),
    ]


_SIGNATURES = {
    "charls_jpegls_encoder_create": (_ENCODER, []),
    "charls_jpegls_encoder_destroy": (None, [_ENCODER]),
    "charls_jpegls_encoder_set_frame_info": (_STATUS, [_ENCODER, ctypes.POINTER(_FrameInfo)]),
    "charls_jpegls_encoder_set_near_lossless": (_STATUS, [_ENCODER, ctypes.c_int32]),
    "charls_jpegls_encoder_set_interleave_mode": (_STATUS, [_ENCODER, ctypes.c_int32]),
    "charls_jpegls_encoder_get_estimated_destination_size": (_STATUS, [_ENCODER, ctypes.POINTER(ctypes.c_size_t)]),
    "charls_jpegls_encoder_set_destination_buffer": (_STATUS, [_ENCODER, ctypes.c_void_p, ctypes.c_size_t]),
    "charls_jpegls_encoder_encode_from_buffer": (_STATUS, [_ENCODER, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32]),
    "charls_jpegls_encoder_get_bytes_written": (_STATUS, [_ENCODER, ctypes.POINTER(ctypes.c_size_t)]),
    "charls_get_error_message": (ctypes.c_char_p, [ctypes.c_int32]),
    "charls_get_version_number": (None, [ctypes.POINTER(ctypes.c_int32)] * 3),
}


@functools.cache
def library() -> ctypes.CDLL | None:
    """The CharLS 2.x library imagecodecs ships (or the system's), declared; None if none loads."""
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            for name, (result, arguments) in _SIGNATURES.items():
                function = getattr(lib, name)
                function.restype, function.argtypes = result, arguments
        except (OSError, AttributeError):
            continue
        major, minor, patch = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        lib.charls_get_version_number(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
        if major.value == 2:  # the C API (and _FrameInfo's layout) this module is written for
            return lib
    return None


def _candidates() -> list[str]:
    import imagecodecs

    package = os.path.dirname(imagecodecs.__file__)
    patterns = (
        package + ".libs/libcharls*.so*",  # manylinux wheels (auditwheel)
        package + "/.dylibs/libcharls*.dylib",  # macOS wheels (delocate)
        package + "/*charls*.dll",
    )
    found = [path for pattern in patterns for path in sorted(glob.glob(pattern))]
    system = ctypes.util.find_library("charls")
    return found + ([system] if system else [])


def encode(samples: np.ndarray, bits: int, near: int) -> bytes | None:
    """Encode (rows, columns[, components]) uint8 (bits <= 8) or uint16 samples with precision
    ``bits``: no SPIFF header, sample-interleaved colour, no colour transform. None when CharLS
    cannot be loaded; ValueError with CharLS's message when it refuses."""
    lib = library()
    if lib is None:
        return None
    if not samples.flags.c_contiguous or samples.dtype.itemsize != (1 if bits <= 8 else 2):
        raise ValueError("CharLS needs contiguous samples of 1 byte (up to 8 bits) or 2 bytes")
    data = _encode(lib, samples, bits, near, size=None)
    if data is None:
        # CharLS's estimate is not a bound: noise can code longer than it is. A coded sample
        # takes at most LIMIT = 2 * (P + max(8, P)) bits, 4 times its size, plus stuffed bits.
        data = _encode(lib, samples, bits, near, size=5 * samples.nbytes + 4096)
    if data is None:
        raise ValueError("CharLS ran out of room for the codestream")
    return data


def _encode(lib: ctypes.CDLL, samples: np.ndarray, bits: int, near: int, size: int | None) -> bytes | None:
    """One attempt; None when the destination (CharLS's estimate, or ``size``) was too small."""
    import numpy as np

    rows, columns = samples.shape[:2]
    components = samples.shape[2] if samples.ndim == 3 else 1
    encoder = lib.charls_jpegls_encoder_create()
    if not encoder:
        raise MemoryError("CharLS could not create an encoder")
    try:
        frame = _FrameInfo(columns, rows, bits, components)
        _check(lib, lib.charls_jpegls_encoder_set_frame_info(encoder, ctypes.byref(frame)))
        _check(lib, lib.charls_jpegls_encoder_set_near_lossless(encoder, near))
        mode = INTERLEAVE_SAMPLE if components > 1 else INTERLEAVE_NONE
        _check(lib, lib.charls_jpegls_encoder_set_interleave_mode(encoder, mode))
        if size is None:
            estimate = ctypes.c_size_t()
            _check(lib, lib.charls_jpegls_encoder_get_estimated_destination_size(encoder, ctypes.byref(estimate)))
            size = estimate.value
        # Not zero-filled (as ctypes.create_string_buffer would), and only what was written is
        # copied out: the estimate is about the size of the samples, several times the output.
        destination = np.empty(size, dtype=np.uint8)
        _check(lib, lib.charls_jpegls_encoder_set_destination_buffer(encoder, destination.ctypes.data, size))
        status = lib.charls_jpegls_encoder_encode_from_buffer(encoder, samples.ctypes.data, samples.nbytes, 0)
        if status == DESTINATION_TOO_SMALL:
            return None
        _check(lib, status)
        written = ctypes.c_size_t()
        _check(lib, lib.charls_jpegls_encoder_get_bytes_written(encoder, ctypes.byref(written)))
        return destination[: written.value].tobytes()
    finally:
        lib.charls_jpegls_encoder_destroy(encoder)


def _check(lib: ctypes.CDLL, status: int) -> None:
    if status:
        message = lib.charls_get_error_message(status) or b"unknown error"
        raise ValueError(f"CharLS: {message.decode(errors='replace')} (error {status})")
