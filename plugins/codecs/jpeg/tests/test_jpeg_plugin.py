"""The plugin module: lean to import, and what it registers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gantry.uids import JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1


def test_importing_the_plugin_loads_neither_numpy_nor_imagecodecs():
    code = ("import sys, gantry_jpeg.plugin as p; p.gantry_codecs(); "
            "print(sorted(m for m in ('numpy', 'imagecodecs') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("family,syntax,provider", [
    ("decoder", JPEG_BASELINE, "jpeg-baseline"), ("encoder", JPEG_BASELINE, "jpeg-baseline"),
    ("decoder", JPEG_EXTENDED, "jpeg-extended"), ("encoder", JPEG_EXTENDED, "jpeg-extended"),
    ("decoder", JPEG_LOSSLESS, "jpeg-lossless"), ("encoder", JPEG_LOSSLESS, "jpeg-lossless"),
    ("decoder", JPEG_LOSSLESS_SV1, "jpeg-lossless"), ("encoder", JPEG_LOSSLESS_SV1, "jpeg-lossless"),
])
def test_active_providers(kernel, family, syntax, provider):
    assert kernel.active(family, syntax).provider == provider


def test_the_rgb_baseline_encoder_is_opt_in(kernel):
    providers = [offer.provider for offer in kernel.providers("encoder", JPEG_BASELINE)]
    assert providers == ["jpeg-baseline", "jpeg-baseline-rgb"]
    assert [offer.provider for offer in kernel.providers("decoder", JPEG_BASELINE)] == ["jpeg-baseline"]
