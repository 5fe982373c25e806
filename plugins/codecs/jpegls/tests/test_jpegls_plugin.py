"""The plugin's entry module stays lean, and the kernel ranks one codec per JPEG-LS syntax."""

from __future__ import annotations

import subprocess
import sys

from gantry.uids import JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS


def test_entry_module_imports_neither_numpy_nor_imagecodecs():
    code = "import sys, gantry_jpegls.plugin; print(sorted({'numpy', 'imagecodecs'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_active_for_both_syntaxes(kernel):
    expected = {JPEG_LS_LOSSLESS: "jpegls-lossless", JPEG_LS_NEAR_LOSSLESS: "jpegls-near-lossless"}
    for syntax, provider in expected.items():
        for family in ("decoder", "encoder"):
            assert kernel.active(family, syntax).provider == provider
        (offer,) = kernel.providers("encoder", syntax)
        assert offer.priority == 50


def test_charls_library_loads_from_imagecodecs():
    # The precision-setting encoder depends on it; the fallback's limits are tested elsewhere.
    from gantry_jpegls import charls

    assert charls.library() is not None
