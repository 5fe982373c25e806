"""The 128-byte Part 10 preamble: application data outside the dataset.

PS3.10 7.1 leaves the preamble to the application; old modalities wrote text there (patient
names included), and PS3.15 E.3 says a de-identifier replaces it. A preamble of zeros is clean.

One non-zero preamble is accepted: a TIFF header (``II*\\0`` little endian, ``MM\\0*`` big
endian), which makes the file a dual-personality DICOM/TIFF file (PS3.10 7.5). The header only
points at TIFF directories elsewhere in the file, whose contents this audit does not follow;
the elements holding them are still audited like any other.
"""

from __future__ import annotations

TIFF_HEADERS = (b"II*\x00", b"MM\x00*")


def preamble_problem(preamble: bytes) -> str:
    """What is wrong with ``preamble`` ("" when nothing is)."""
    if not preamble.strip(b"\x00"):
        return ""
    if preamble[:4] in TIFF_HEADERS:
        return ""
    nonzero = sum(1 for byte in preamble if byte)
    return f"preamble of {len(preamble)} bytes holds {nonzero} non-zero byte(s) and no TIFF header"
