"""The twin table: every compressed test file of pydicom-data (and of pydicom's own bundled test
files) paired with an uncompressed file holding the same image, or listed with the reason it has
none.

Data only; ``tests/test_pydicom_data_twins.py`` decodes each compressed file through Gantry and
compares it with its twin decoded by pydicom.

Where the pairings and tolerances come from (read, not copied; recorded here as data):

``REF``
    pydicom's pixel reference table, ``tests/pixels/pixels_reference.py`` in pydicom/pydicom at
    commit 16db6c4736f9cb27c127e2f4d5c0cb6808925e13. Its checks compare a decoded file with the
    ``pixel_array`` of an uncompressed file (``np.array_equal``, or ``np.allclose(..., atol=1)``
    for four JPEG 2000 lossy files), or check sample values that are exactly those of an
    uncompressed file's own reference entry.
``PYLIBJPEG``
    ``pydicom/tests/test_pylibjpeg.py`` (pydicom 2.x, commit
    0255a98226ab6e9b1027e82e1f5eacc4ae25899d): ``JPG_MATCHING_DATASETS`` (JPEG Baseline files
    against their DCMTK-decompressed copies, compared as RGB with ``np.allclose(arr, ref,
    atol=tol)``, tol 0, 1 or 2 per file), ``J2K_MATCHING_DATASETS`` and ``RLE_MATCHING_DATASETS``
    (``np.array_equal``).
``PILLOW``
    ``pydicom/tests/test_pillow_pixel_data.py`` (pydicom 2.x, commit
    eb2b3f01f8b747eaca3940870af84022dac4cc26): ``JPEG_MATCHING_DATASETS`` pairs the RGB JPEG
    without colour transform with its decompressed copy, ``np.array_equal``.
``README``
    ``pydicom/data/test_files/README.txt`` as installed with pydicom 3.0.2 (what each file is and
    how it was made).
``JPEG_LS_NEAR``
    JPEG-LS near-lossless (ISO/IEC 14495-1) bounds every sample's error by the NEAR parameter of
    the scan header; the test reads NEAR from every frame and requires it to equal the tolerance
    below. pydicom's reference values for these files (``pixels_reference.py``: 130, 65, 190
    where ``SC_rgb.dcm`` holds 128, 64, 192) differ from ``SC_rgb.dcm`` by the same 2.

A tolerance is the largest absolute difference allowed between any sample Gantry decodes and the
twin's sample (0: bit-exact). Lossless transfer syntaxes always have 0.
"""

from __future__ import annotations

from dataclasses import dataclass

REF = "pydicom tests/pixels/pixels_reference.py @16db6c47"
PYLIBJPEG = "pydicom/tests/test_pylibjpeg.py @0255a982"
PILLOW = "pydicom/tests/test_pillow_pixel_data.py @eb2b3f01"
README = "pydicom/data/test_files/README.txt (pydicom 3.0.2)"
JPEG_LS_NEAR = "ISO/IEC 14495-1 NEAR bound, read from each frame's scan header"

#: Where a file name is found: pydicom-data (the PyPI package, module ``data_store``) or the test
#: files bundled with pydicom itself.
PYDICOM_DATA = "pydicom-data"
PYDICOM = "pydicom"


@dataclass(frozen=True)
class Twin:
    compressed: str
    """File name of the compressed (encapsulated) file."""
    twin: str
    """File name of the uncompressed file holding the same image."""
    tolerance: int
    """Largest absolute sample difference allowed; 0 is bit-exact."""
    source: str
    """Where the pairing and the tolerance come from."""
    convert: str = ""
    """Colour conversion applied (with pydicom.pixels.convert_color_space) to what Gantry decodes
    before comparing, when the twin is stored in another colour space: "YBR_FULL->RGB"."""
    damaged: str = ""
    """Set for a deliberately damaged file: Gantry may refuse it with a GantryError, but whatever
    it does decode must match the twin."""

    @property
    def id(self) -> str:
        return f"{self.compressed}~{self.twin}"


TWINS: tuple[Twin, ...] = (
    # -- RLE Lossless 1.2.840.10008.1.2.5 ------------------------------------------------------
    Twin("OBXXXX1A_rle.dcm", "OBXXXX1A.dcm", 0, PYLIBJPEG),
    Twin("OBXXXX1A_rle_2frame.dcm", "OBXXXX1A_2frame.dcm", 0, PYLIBJPEG),
    Twin("emri_small_RLE.dcm", "emri_small.dcm", 0, PYLIBJPEG),
    Twin("MR_small_RLE.dcm", "MR_small.dcm", 0, PYLIBJPEG),
    Twin("SC_rgb_rle.dcm", "SC_rgb.dcm", 0, PYLIBJPEG),
    Twin("SC_rgb_rle_2frame.dcm", "SC_rgb_2frame.dcm", 0, PYLIBJPEG),
    Twin("SC_rgb_rle_16bit.dcm", "SC_rgb_16bit.dcm", 0, PYLIBJPEG),
    Twin("SC_rgb_rle_16bit_2frame.dcm", "SC_rgb_16bit_2frame.dcm", 0, PYLIBJPEG),
    Twin("SC_rgb_rle_32bit.dcm", "SC_rgb_32bit.dcm", 0, PYLIBJPEG),
    Twin("SC_rgb_rle_32bit_2frame.dcm", "SC_rgb_32bit_2frame.dcm", 0, PYLIBJPEG),
    Twin("rtdose_rle_1frame.dcm", "rtdose_1frame.dcm", 0, PYLIBJPEG),
    Twin("rtdose_rle.dcm", "rtdose.dcm", 0, PYLIBJPEG),
    # -- JPEG Baseline 1.2.840.10008.1.2.4.50 (lossy) ------------------------------------------
    # DCMTK-compressed copies of SC_rgb.dcm with different subsampling, against DCMTK's own
    # decompression (dcmdjpeg, which converts to RGB): compared as RGB as pydicom does.
    Twin("SC_rgb_dcmtk_+eb+cy+np.dcm", "SC_rgb_dcmtk_ebcynp_dcmd.dcm", 2, PYLIBJPEG, "YBR_FULL->RGB"),
    Twin("SC_rgb_dcmtk_+eb+cy+s2.dcm", "SC_rgb_dcmtk_ebcys2_dcmd.dcm", 0, PYLIBJPEG, "YBR_FULL->RGB"),
    Twin("SC_rgb_dcmtk_+eb+cy+n1.dcm", "SC_rgb_dcmtk_ebcyn1_dcmd.dcm", 2, PYLIBJPEG, "YBR_FULL->RGB"),
    Twin("SC_rgb_dcmtk_+eb+cy+n2.dcm", "SC_rgb_dcmtk_ebcyn2_dcmd.dcm", 0, PYLIBJPEG, "YBR_FULL->RGB"),
    Twin("SC_rgb_dcmtk_+eb+cy+s4.dcm", "SC_rgb_dcmtk_ebcys4_dcmd.dcm", 0, PYLIBJPEG, "YBR_FULL->RGB"),
    Twin("SC_rgb_dcmtk_+eb+cr.dcm", "SC_rgb_dcmtk_ebcr_dcmd.dcm", 1, PYLIBJPEG),
    # Like with like, no colour conversion: README says SC_ybr_full_uncompressed.dcm is the
    # GDCM-decompressed +eb+cy+n2 (YBR_FULL); REF checks identical YBR samples for it and for
    # SC_rgb_jpeg_dcmtk.dcm, for every decoder plugin, so 0.
    Twin("SC_rgb_dcmtk_+eb+cy+n2.dcm", "SC_ybr_full_uncompressed.dcm", 0, f"{README}; {REF}"),
    Twin("SC_rgb_jpeg_dcmtk.dcm", "SC_ybr_full_uncompressed.dcm", 0, REF),
    # RGB JPEG with no colour transform (no APP14 marker) against its DCMTK-decompressed copy.
    Twin("SC_jpeg_no_color_transform.dcm", "SC_rgb_jpeg_dcmd.dcm", 0, PILLOW),
    # The same tile, another encoding of it; SC_rgb_jpeg_dcmd.dcm is its dcmdjpeg output by
    # name, and pydicom compares that reference bit-exact (PILLOW).
    Twin("SC_rgb_jpeg.dcm", "SC_rgb_jpeg_dcmd.dcm", 0, f"file names; tolerance as {PILLOW}"),
    # -- JPEG Lossless SV1 1.2.840.10008.1.2.4.70 ------------------------------------------------
    # REF checks the same samples as for SC_rgb.dcm (lossless: bit-exact).
    Twin("SC_rgb_jpeg_gdcm.dcm", "SC_rgb.dcm", 0, REF),
    # -- JPEG-LS Lossless 1.2.840.10008.1.2.4.80 ------------------------------------------------
    Twin("emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm", 0, REF),
    Twin("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm", 0, REF),  # REF checks MR_small's samples
    # -- JPEG-LS Near-Lossless 1.2.840.10008.1.2.4.81 -------------------------------------------
    Twin("SC_rgb_jls_lossy_line.dcm", "SC_rgb.dcm", 2, f"{JPEG_LS_NEAR}; {REF}"),
    Twin("SC_rgb_jls_lossy_sample.dcm", "SC_rgb.dcm", 2, f"{JPEG_LS_NEAR}; {REF}"),
    # -- JPEG 2000 Lossless 1.2.840.10008.1.2.4.90 ----------------------------------------------
    Twin("US1_J2KR.dcm", "US1_UNCR.dcm", 0, REF),  # YBR_RCT: decoded as RGB
    Twin("examples_jpeg2k.dcm", "US1_UNCR.dcm", 0, f"{README}: identical to US1_J2KR.dcm"),
    Twin("RG3_J2KR.dcm", "RG3_UNCR.dcm", 0, REF),
    Twin("MR2_J2KR.dcm", "MR2_UNCR.dcm", 0, REF),
    Twin("RG1_J2KR.dcm", "RG1_UNCR.dcm", 0, REF),
    Twin("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm", 0, REF),
    # Bits Stored says 16, the codestream holds 14-bit signed samples (pydicom issue #693);
    # the twin declares 14.
    Twin("693_J2KR.dcm", "693_UNCR.dcm", 0, REF),
    Twin("MR_small_jp2klossless.dcm", "MR_small.dcm", 0, REF),
    Twin(
        "emri_small_jpeg_2k_lossless_too_short.dcm", "emri_small.dcm", 0,
        "pydicom tests/test_filereader.py: emri_small_jpeg_2k_lossless.dcm less its last 8 bytes",
        damaged="the Pixel Data ends without its Sequence Delimitation Item (all 10 frames are whole)",
    ),
    # -- JPEG 2000 1.2.840.10008.1.2.4.91 (lossy; the twins hold the lossy image decoded) -------
    Twin("SC_rgb_gdcm_KY.dcm", "SC_rgb_gdcm2k_uncompressed.dcm", 0, REF),
    Twin("US1_J2KI.dcm", "US1_UNCI.dcm", 1, REF),  # YBR_ICT: decoded as RGB
    Twin("RG3_J2KI.dcm", "RG3_UNCI.dcm", 1, REF),
    Twin("MR2_J2KI.dcm", "MR2_UNCI.dcm", 1, REF),
    Twin("RG1_J2KI.dcm", "RG1_UNCI.dcm", 1, REF),
    Twin("693_J2KI.dcm", "693_UNCI.dcm", 0, REF),
    Twin("JPEG2000.dcm", "JPEG2000_UNC.dcm", 0, f"{REF}; {README}"),
)


#: Compressed files with no uncompressed twin in either package, and why.
NO_TWIN: dict[str, str] = {
    # pydicom-data
    "JPEG-LL.dcm": (
        "NEMA WG04 NM1_JPLL (README); its uncompressed original NM1_UNC is not shipped. "
        "JPEG2000_UNC.dcm is the same scan but decoded from the lossy J2K (NM1_J2KI): it differs "
        "from this lossless image by up to 101, so it is no twin. REF checks sample values only"
    ),
    "JPGLosslessP14SV1_1s_1f_8b.dcm": "no uncompressed copy in either package (REF checks sample values only)",
    "bad_sequence.dcm": "a header regression file (pydicom issue #1067, invalid UN sequence); no uncompressed copy",
    "color3d_jpeg_baseline.dcm": (
        "120-frame YBR_FULL_422 JPEG; no uncompressed copy (examples_rgb_color.dcm is US1 cropped, "
        "examples_ybr_color.dcm a reduced, rescaled JPEG of it). REF checks sample values only"
    ),
    "explicit_VR-UN.dcm": (
        "gdcmconv --j2k of a TCIA image (pydicom issue #968, README); the original is not shipped. "
        "693_UNCR.dcm has the same geometry but another image (differs by up to 3447)"
    ),
    # pydicom (bundled test files)
    "GDCMJ2K_TextGBR.dcm": "GDCM sample with a non-conformant JP2 header; no uncompressed copy (REF: sample values)",
    "J2K_pixelrep_mismatch.dcm": (
        "pydicom issue #1149: unsigned J2K codestream in a Pixel Representation 1 dataset; "
        "no uncompressed copy (REF: sample values)"
    ),
    "JPEG2000-embedded-sequence-delimiter.dcm": (
        "JPEG2000.dcm with 4 codestream bytes overwritten by a Sequence Delimiter (pydicom issue "
        "#1140, README): the codestream is corrupt, no file holds what it decodes to"
    ),
    "JPEG-lossy.dcm": "NEMA WG04 NM1_JPLY, 12-bit lossy JPEG with an invalid scan stop (README); no decoded copy",
    "JPGExtended.dcm": "the repaired JPEG-lossy.dcm (README); no decoded copy (REF: sample values)",
    "JPEGLSNearLossless_08.dcm": "45x10 near-lossless JPEG-LS; no uncompressed copy (REF: sample values)",
    "JPEGLSNearLossless_16.dcm": "45x10 near-lossless JPEG-LS; no uncompressed copy (REF: sample values)",
    "SC_jpeg_no_color_transform_2.dcm": (
        "RGB JPEG with an APP14 marker; its only counterpart, SC_rgb_jpeg_app14_dcmd.dcm, is the "
        "same JPEG byte for byte, not a decompressed copy"
    ),
    "SC_rgb_jpeg_app14_dcmd.dcm": "byte-for-byte the JPEG of SC_jpeg_no_color_transform_2.dcm: still compressed",
    "SC_rgb_jpeg_lossy_gdcm.dcm": (
        "GDCM lossy JPEG of SC_rgb.dcm with no decompressed copy: the original SC_rgb.dcm differs "
        "by up to 75 at colour edges, and pydicom compares no tolerance for it"
    ),
    "SC_rgb_small_odd_jpeg.dcm": (
        "3x3 JPEG of SC_rgb_small_odd.dcm with no decompressed copy: the original differs by up "
        "to 4 and pydicom compares no tolerance for it"
    ),
    "examples_ybr_color.dcm": "color3d_jpeg_baseline.dcm with fewer frames and rescaled Pixel Data (README); no decoded copy",
    "UN_sequence.dcm": "JPEG Lossless transfer syntax but no Pixel Data at all (one private UN sequence, README)",
}

#: The transfer syntaxes whose decoding is lossless: their twins must match bit for bit.
LOSSLESS_SYNTAXES = frozenset({
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.201",  # HTJ2K Lossless
    "1.2.840.10008.1.2.4.202",  # HTJ2K Lossless RPCL
})

#: The colleague's codec plugin folder (plugins/codecs/<name>) expected to decode each syntax.
CODEC_PLUGIN_FOR_SYNTAX: dict[str, str] = {
    "1.2.840.10008.1.2.5": "rle",
    "1.2.840.10008.1.2.4.50": "jpeg",
    "1.2.840.10008.1.2.4.51": "jpeg",
    "1.2.840.10008.1.2.4.57": "jpeg",
    "1.2.840.10008.1.2.4.70": "jpeg",
    "1.2.840.10008.1.2.4.80": "jpegls",
    "1.2.840.10008.1.2.4.81": "jpegls",
    "1.2.840.10008.1.2.4.90": "j2k",
    "1.2.840.10008.1.2.4.91": "j2k",
    "1.2.840.10008.1.2.4.201": "htj2k",
    "1.2.840.10008.1.2.4.202": "htj2k",
    "1.2.840.10008.1.2.4.203": "htj2k",
}
