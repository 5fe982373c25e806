"""The plugin's entry module stays lean, and the kernel ranks the codec for RLE Lossless."""

from __future__ import annotations

import subprocess
import sys

from gantry.uids import RLE_LOSSLESS


def test_entry_module_imports_neither_numpy_nor_imagecodecs():
    code = "import sys, gantry_rle.plugin; print(sorted({'numpy', 'imagecodecs'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_active_for_decoding_and_encoding(kernel):
    for family in ("decoder", "encoder"):
        active = kernel.active(family, RLE_LOSSLESS)
        assert active.provider == "rle"
    (offer,) = kernel.providers("decoder", RLE_LOSSLESS)
    assert offer.priority == 50
