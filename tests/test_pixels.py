"""The codec contract as the kernel enforces it: checked results, fallback, errors naming everything."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gantry_part10.plugin
from gantry import Codec, CodecError, hookimpl
from gantry.frames import open_pixels
from gantry.pixels import PixelInfo, decode_frame
from gantry.testing import kernel_with
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.uids import JPEG2000_LOSSLESS


def wrong_shape(frame, info):
    return np.zeros((info.rows + 1, info.columns), dtype=info.dtype())


def wrong_dtype(frame, info):
    return np.zeros(info.frame_shape, dtype=np.float32)


def raw_bytes(frame, info):
    return frame  # "passing through" what was not decoded


def openjpeg_decode(frame, info):
    import openjpeg

    return openjpeg.decode(bytes(frame)).astype(info.dtype())


class J2K:
    def __init__(self, name, priority, function):
        self.descriptor = Codec(name=name, transfer_syntaxes=JPEG2000_LOSSLESS, priority=priority,
                                decode=f"{__name__}:{function}")

    @hookimpl
    def gantry_codecs(self):
        return [self.descriptor]


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    monkeypatch.setitem(sys.modules, __name__, sys.modules[__name__])


@pytest.fixture
def j2k_file(tmp_path):
    import openjpeg
    from pydicom.encaps import encapsulate

    dataset = make_dataset(rows=64, columns=48, frames=2, bits_allocated=16, bits_stored=12)
    expected = dataset.pixel_array
    frames = [openjpeg.encode(frame, bits_stored=12) for frame in expected]
    frames[1] = frames[1][: len(frames[1]) // 2]  # the second frame is cut in half
    dataset.PixelData = encapsulate(frames)
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = JPEG2000_LOSSLESS
    return write_dataset(dataset, tmp_path / "j2k.dcm"), expected


def test_unverified_results_fall_through_to_a_real_decoder(j2k_file):
    path, expected = j2k_file
    kernel = kernel_with({"part10": gantry_part10.plugin, "a": J2K("shape", 90, "wrong_shape"),
                          "b": J2K("dtype", 80, "wrong_dtype"), "c": J2K("bytes", 70, "raw_bytes"),
                          "d": J2K("openjpeg", 10, "openjpeg_decode")})
    with open_pixels(kernel, path) as pixels:
        first = next(pixels.arrays())
    assert np.array_equal(first, expected[0])


def test_a_frame_no_provider_decodes_names_file_frame_syntax_and_providers(j2k_file):
    path, _ = j2k_file
    kernel = kernel_with({"part10": gantry_part10.plugin, "a": J2K("shape", 90, "wrong_shape"),
                          "d": J2K("openjpeg", 10, "openjpeg_decode")})
    with open_pixels(kernel, path) as pixels, pytest.raises(CodecError) as caught:
        list(pixels.arrays())
    message = str(caught.value)
    assert "j2k.dcm' frame 2" in message and JPEG2000_LOSSLESS in message
    assert [name for name, _ in caught.value.attempts] == ["shape", "openjpeg"]
    assert "does not match the dataset's (64, 48)" in message


def test_pixel_info_from_dataset_names_what_is_wrong():
    dataset = make_dataset()
    del dataset.Rows
    with pytest.raises(CodecError, match="lacks Rows"):
        PixelInfo.from_dataset(dataset)
    dataset = make_dataset()
    dataset.BitsStored = 17
    with pytest.raises(CodecError, match="Bits Stored 17 does not fit Bits Allocated 16"):
        PixelInfo.from_dataset(dataset)


def test_no_decoder_at_all(tmp_path):
    kernel = kernel_with({})
    info = PixelInfo(rows=2, columns=2, transfer_syntax=JPEG2000_LOSSLESS)
    with pytest.raises(CodecError, match="no provider for decoder 1.2.840.10008.1.2.4.90 for frame 1"):
        decode_frame(kernel, b"\xff\x4f", info, what="frame 1")
