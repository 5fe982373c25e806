"""The plugin as the kernel sees it: lean to import, one provider for the three syntaxes."""

from __future__ import annotations

import subprocess
import sys

from gantry.uids import HTJ2K, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL


def test_importing_the_entry_module_loads_neither_numpy_nor_imagecodecs():
    code = ("import sys, gantry_htj2k.plugin as p; p.gantry_codecs(); "
            "print(sorted(m for m in ('numpy', 'imagecodecs', 'pydicom') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_one_provider_decodes_and_encodes_the_three_syntaxes(kernel):
    for syntax in (HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL, HTJ2K):
        for family in ("decoder", "encoder"):
            offer = kernel.active(family, syntax)
            assert (offer.provider, offer.priority) == ("htj2k-imagecodecs", 50)
        assert kernel.active("decoder", syntax).ref == "gantry_htj2k.codec:decode_htj2k"
    assert kernel.active("encoder", HTJ2K_LOSSLESS).ref == "gantry_htj2k.codec:encode_htj2k_lossless"
    assert kernel.active("encoder", HTJ2K_LOSSLESS_RPCL).ref == "gantry_htj2k.codec:encode_htj2k_rpcl"
    assert kernel.active("encoder", HTJ2K).ref == "gantry_htj2k.codec:encode_htj2k_lossy"
