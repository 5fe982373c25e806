"""The kernel finds the step through the entry point, with its settings; the entry module is lean."""

from __future__ import annotations

import subprocess
import sys


def test_the_installed_kernel_offers_redact_pixels(installed_kernel):
    offer = installed_kernel.active("deid-action", "redact-pixels")
    assert offer.provider == "redact-zones" and offer.plugin == "redact"
    assert installed_kernel.settings("redact") == {"machines": [], "risky_modalities": ["US", "SC", "XA", "ES",
                                                                                        "DX", "OT"]}


def test_the_entry_module_imports_neither_numpy_nor_the_codecs():
    code = ("import sys, gantry_redact.plugin; "
            "print(sorted(m for m in ('numpy', 'gantry_transcode', 'gantry_redact.redaction') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
