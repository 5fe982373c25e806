"""The plugin as the kernel sees it: lean to import, one provider for both syntaxes."""

from __future__ import annotations

import subprocess
import sys

from gantry.uids import JPEG2000, JPEG2000_LOSSLESS


def test_importing_the_entry_module_loads_neither_numpy_nor_imagecodecs():
    code = ("import sys, gantry_j2k.plugin as p; p.gantry_codecs(); "
            "print(sorted(m for m in ('numpy', 'imagecodecs', 'pydicom') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_one_provider_decodes_and_encodes_both_syntaxes(kernel):
    for syntax in (JPEG2000_LOSSLESS, JPEG2000):
        for family in ("decoder", "encoder"):
            offer = kernel.active(family, syntax)
            assert (offer.provider, offer.priority) == ("j2k-openjpeg", 50)
    assert kernel.active("encoder", JPEG2000_LOSSLESS).ref == "gantry_j2k.codec:encode_j2k_lossless"
    assert kernel.active("encoder", JPEG2000).ref == "gantry_j2k.codec:encode_j2k_lossy"
