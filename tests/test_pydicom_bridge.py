"""pydicom's own pixel API decodes through Gantry's ranking when the bridge is active."""

from __future__ import annotations

import numpy as np
import pytest

from gantry import Codec, hookimpl
from gantry.pydicom_bridge import activate, deactivate
from gantry.testing import kernel_with
from gantry.testing.datasets import make_dataset
from gantry.uids import JPEG2000_LOSSLESS

DECODED: list[int] = []


def counting_decode(frame, info):
    import openjpeg

    DECODED.append(len(frame))
    return openjpeg.decode(bytes(frame)).astype(info.dtype())


def failing_decode(frame, info):
    raise ValueError("this vendor decoder always fails")


class CountingJ2K:
    @hookimpl
    def gantry_codecs(self):
        return [Codec(name="counting-j2k", transfer_syntaxes=JPEG2000_LOSSLESS, priority=50,
                      decode=f"{__name__}:counting_decode")]


class FailingJ2K:
    @hookimpl
    def gantry_codecs(self):
        return [Codec(name="failing-j2k", transfer_syntaxes=JPEG2000_LOSSLESS, priority=90,
                      decode=f"{__name__}:failing_decode")]


@pytest.fixture
def j2k_dataset():
    import openjpeg
    from pydicom.encaps import encapsulate

    dataset = make_dataset(rows=64, columns=48, frames=3, bits_allocated=16, bits_stored=12)
    expected = dataset.pixel_array
    dataset.PixelData = encapsulate([openjpeg.encode(frame, bits_stored=12) for frame in expected])
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = JPEG2000_LOSSLESS
    return dataset, expected


@pytest.fixture(autouse=True)
def _clean():
    DECODED.clear()
    yield
    deactivate()


def test_pixel_array_goes_through_the_kernel(j2k_dataset, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, __name__, sys.modules[__name__])
    dataset, expected = j2k_dataset
    kernel = kernel_with({"failing": FailingJ2K(), "counting": CountingJ2K()})
    assert JPEG2000_LOSSLESS in activate(kernel)
    assert np.array_equal(dataset.pixel_array, expected)
    assert len(DECODED) == 3  # every frame came through the ranking: failing first, then counting


def test_deactivate_restores_pydicoms_own_plugins(j2k_dataset, monkeypatch):
    import sys

    from pydicom.pixels.decoders.base import get_decoder

    monkeypatch.setitem(sys.modules, __name__, sys.modules[__name__])
    dataset, expected = j2k_dataset
    activate(kernel_with({"counting": CountingJ2K()}))
    assert "gantry" in get_decoder(JPEG2000_LOSSLESS).available_plugins
    deactivate()
    assert "gantry" not in get_decoder(JPEG2000_LOSSLESS).available_plugins
    # Back to pydicom's own plugins (pylibjpeg-openjpeg, a dev dependency): same pixels, not via us.
    assert np.array_equal(dataset.pixel_array, expected)
    assert DECODED == []
