"""Gantry's codecs against independent implementations: dcmtk and GDCM, in both directions.

- Ours -> theirs: Gantry transcodes a native file; GDCM (``gdcmconv --raw``) and dcmtk
  (``dcmdrle``, ``dcmdjpeg``, ``dcmdjpls``) decompress it; their pixels must equal the original
  (lossless) or Gantry's own decode of the same file (lossy, within one or two grey levels of
  IDCT rounding).
- Theirs -> ours: dcmtk (``dcmcrle``, ``dcmcjpeg``, ``dcmcjpls``) and GDCM (``gdcmconv --rle
  --jpegls --j2k``) compress a native file; Gantry decodes it to the original pixels.

The tools come from Debian (dcmtk, libgdcm-tools), installed by ``make test``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from gantry import Kernel
from gantry.frames import open_pixels
from gantry.testing.datasets import make_dataset, write_dataset

pytestmark = pytest.mark.slow

TOOLS = ("gdcmconv", "dcmdrle", "dcmdjpeg", "dcmdjpls", "dcmcrle", "dcmcjpeg", "dcmcjpls")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: `make test` installs dcmtk and libgdcm-tools")
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("kernel"))  # no site gantry.toml
    try:
        return Kernel.from_config(env={})
    finally:
        os.chdir(cwd)


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(argv)}: {result.stderr or result.stdout}"


def _ours(kernel, path) -> np.ndarray:
    with open_pixels(kernel, path) as pixels:
        return np.stack(list(pixels.arrays()))


def _theirs(path) -> np.ndarray:
    dataset = pydicom.dcmread(path)
    array = dataset.pixel_array
    return array if int(dataset.get("NumberOfFrames", 1) or 1) > 1 else array[np.newaxis]


def _transcode(kernel, source, destination, to):
    from gantry_transcode.transcode import transcode_file

    result = transcode_file(kernel, source, destination, to)
    assert result.ok, result.reason
    return result


# (gantry short name, image options, decompressors that must read it, lossless?)
OURS_TO_THEIRS = [
    ("rle", dict(bits_allocated=16, bits_stored=16), ("gdcmconv", "dcmdrle"), True),
    ("rle", dict(bits_allocated=8, photometric="RGB"), ("gdcmconv", "dcmdrle"), True),
    ("rle", dict(bits_allocated=16, bits_stored=12, signed=True, frames=3), ("gdcmconv", "dcmdrle"), True),
    ("jpeg-lossless-sv1", dict(bits_allocated=16, bits_stored=12), ("gdcmconv", "dcmdjpeg"), True),
    ("jpeg-lossless-sv1", dict(bits_allocated=8, frames=2), ("gdcmconv", "dcmdjpeg"), True),
    ("jpeg-lossless", dict(bits_allocated=16, bits_stored=16), ("gdcmconv", "dcmdjpeg"), True),
    ("jpeg-baseline", dict(bits_allocated=8), ("gdcmconv", "dcmdjpeg"), False),
    ("jpeg-ls", dict(bits_allocated=16, bits_stored=12), ("gdcmconv", "dcmdjpls"), True),
    ("jpeg-ls", dict(bits_allocated=8, photometric="RGB"), ("gdcmconv", "dcmdjpls"), True),
    ("jpeg-ls-near", dict(bits_allocated=16, bits_stored=12), ("gdcmconv", "dcmdjpls"), False),
    ("j2k-lossless", dict(bits_allocated=16, bits_stored=12), ("gdcmconv",), True),
    ("j2k-lossless", dict(bits_allocated=16, bits_stored=16, signed=True), ("gdcmconv",), True),
    ("j2k-lossless", dict(bits_allocated=8, photometric="RGB"), ("gdcmconv",), True),
    ("j2k", dict(bits_allocated=16, bits_stored=12), ("gdcmconv",), False),
]


def _smooth(options):
    """A smooth image (lossy codecs are tested on what they are made for), from random data."""
    dataset = make_dataset(rows=64, columns=64, **options)
    if options.get("photometric") == "RGB" or dataset.BitsAllocated == 8:
        return dataset
    pixels = dataset.pixel_array
    y, x = np.mgrid[0:64, 0:64]
    top = 2 ** (dataset.BitsStored - 1) - 1 if dataset.PixelRepresentation else 2 ** dataset.BitsStored - 1
    gradient = ((x + y) * top // 126).astype(pixels.dtype)
    dataset.PixelData = np.broadcast_to(gradient, pixels.shape).astype(pixels.dtype).tobytes()
    return dataset


@pytest.mark.parametrize(("to", "options", "tools", "lossless"), OURS_TO_THEIRS,
                         ids=[f"{t}-{i}" for i, (t, *_rest) in enumerate(OURS_TO_THEIRS)])
def test_what_gantry_encodes_decodes_in_dcmtk_and_gdcm(kernel, tmp_path, to, options, tools, lossless):
    dataset = _smooth(options)
    source = write_dataset(dataset, tmp_path / "native.dcm")
    encoded = tmp_path / "gantry.dcm"
    _transcode(kernel, source, encoded, to)
    original = _theirs(source)
    ours = _ours(kernel, encoded)
    for tool in tools:
        out = tmp_path / f"{tool}.dcm"
        if tool == "gdcmconv":
            _run("gdcmconv", "--raw", str(encoded), str(out))
        else:
            _run(tool, str(encoded), str(out))
        theirs = _theirs(out)
        assert theirs.shape == original.shape, tool
        if lossless:
            assert np.array_equal(theirs, original), f"{tool} decodes Gantry's {to} differently"
        else:
            difference = np.abs(theirs.astype(np.int64) - ours.astype(np.int64)).max()
            assert difference <= 2, f"{tool} and Gantry decode Gantry's {to} {difference} grey levels apart"
    if lossless:
        assert np.array_equal(ours, original)


# (compressor command, options, image options, gantry must equal the original?)
THEIRS_TO_OURS = [
    (("dcmcrle",), dict(bits_allocated=16, bits_stored=12, frames=2), True),
    (("dcmcrle",), dict(bits_allocated=8, photometric="RGB"), True),
    (("dcmcjpeg", "--encode-lossless-sv1"), dict(bits_allocated=16, bits_stored=12), True),
    (("dcmcjpeg", "--encode-lossless"), dict(bits_allocated=8), True),
    (("dcmcjpeg", "--encode-baseline"), dict(bits_allocated=8), False),
    (("dcmcjpls", "--encode-lossless"), dict(bits_allocated=16, bits_stored=12), True),
    (("dcmcjpls", "--encode-nearlossless"), dict(bits_allocated=16, bits_stored=12), False),
    (("gdcmconv", "--rle"), dict(bits_allocated=16, bits_stored=16, frames=2), True),
    (("gdcmconv", "--jpegls"), dict(bits_allocated=16, bits_stored=12), True),
    (("gdcmconv", "--j2k"), dict(bits_allocated=16, bits_stored=12), True),
    (("gdcmconv", "--j2k"), dict(bits_allocated=8, photometric="RGB"), True),
]


@pytest.mark.parametrize(("command", "options", "lossless"), THEIRS_TO_OURS,
                         ids=[f"{'-'.join(c).replace('--', '')}-{i}" for i, (c, *_r) in enumerate(THEIRS_TO_OURS)])
def test_gantry_decodes_what_dcmtk_and_gdcm_encode(kernel, tmp_path, command, options, lossless):
    dataset = _smooth(options)
    source = write_dataset(dataset, tmp_path / "native.dcm")
    encoded = tmp_path / "theirs.dcm"
    _run(*command, str(source), str(encoded))
    syntax = str(pydicom.dcmread(encoded, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    assert kernel.active("decoder", syntax) is not None, f"no Gantry decoder for {syntax}"
    ours = _ours(kernel, encoded)
    original = _theirs(source)
    if lossless:
        assert np.array_equal(ours, original), f"Gantry decodes {' '.join(command)} output differently"
    else:
        reference = tmp_path / "reference.dcm"
        _run("gdcmconv", "--raw", str(encoded), str(reference))
        difference = np.abs(_theirs(reference).astype(np.int64) - ours.astype(np.int64)).max()
        assert difference <= 2, f"Gantry and GDCM decode {' '.join(command)} output {difference} grey levels apart"
