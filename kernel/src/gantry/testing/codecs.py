"""Helpers for testing codec plugins (ours and third parties'): pixel descriptions, seeded
frames over the whole range of Bits Stored, encode/decode through the kernel's checked dispatch,
and a real pydicom dataset around encapsulated frames for independent decoding.
"""

from __future__ import annotations

from typing import Any

import attrs

from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo, decode_frame, encode_frame, stored_range

MONOCHROME_LIKE = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")


def pixel_info(*, rows: int = 23, columns: int = 17, allocated: int = 16, stored: int = 16, signed: bool = False,
               photometric: str = "MONOCHROME2", frames: int = 1, transfer_syntax: str = "") -> PixelInfo:
    """A PixelInfo from the few numbers tests vary (odd sizes by default: they catch padding bugs)."""
    samples = 1 if photometric in MONOCHROME_LIKE else 3
    return PixelInfo(rows=rows, columns=columns, samples_per_pixel=samples, bits_allocated=allocated,
                     bits_stored=stored, pixel_representation=int(signed), photometric_interpretation=photometric,
                     number_of_frames=frames, transfer_syntax=transfer_syntax)


def test_frame(info: PixelInfo, content: str = "random", seed: int = 0) -> Any:
    """One seeded frame: ``random`` over the full range of Bits Stored (both extremes always
    present), ``gradient``, or ``smooth`` (what lossy coding is for, with a little noise)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    low, high = stored_range(info)
    if content == "random":
        array = rng.integers(low, high, size=info.frame_shape, endpoint=True)
        flat = array.reshape(-1)
        flat[0], flat[-1] = low, high
    else:
        y, x = np.mgrid[0:info.rows, 0:info.columns]
        planes = []
        for plane in range(info.samples_per_pixel):
            if content == "gradient":
                base = (x + y + plane) / (info.rows + info.columns + 1)
            else:
                base = (0.5 + 0.22 * np.sin(x / 9 + plane) + 0.22 * np.cos(y / 7 - plane)
                        + rng.normal(0, 0.004, x.shape))
            planes.append(base)
        base = np.stack(planes, axis=-1) if info.samples_per_pixel > 1 else planes[0]
        array = np.clip(np.round(low + base * (high - low)), low, high)
    return array.astype(info.dtype())


test_frame.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test


@attrs.define
class CodecHarness:
    """Encode and decode through the kernel, so its shape and dtype checks run as in production."""

    kernel: Any

    def encode(self, array: Any, info: PixelInfo, syntax: str, ratio: float | None = None) -> EncodedFrame:
        options = EncodeOptions() if ratio is None else EncodeOptions(ratio=ratio)
        return encode_frame(self.kernel, array, info, syntax, options)

    def decode(self, data: bytes, info: PixelInfo, syntax: str, photometric: str | None = None) -> Any:
        stored = attrs.evolve(info, transfer_syntax=syntax,
                              photometric_interpretation=photometric or info.photometric_interpretation)
        return decode_frame(self.kernel, data, stored)


def encapsulated_dataset(frames: list[bytes], info: PixelInfo, syntax: str, photometric: str) -> Any:
    """A minimal, valid pydicom Dataset holding ``frames`` encapsulated in ``syntax``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns, ds.SamplesPerPixel = info.rows, info.columns, info.samples_per_pixel
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = info.bits_allocated, info.bits_stored, info.bits_stored - 1
    ds.PixelRepresentation = info.pixel_representation
    ds.PhotometricInterpretation = photometric
    if info.samples_per_pixel > 1:
        ds.PlanarConfiguration = 0
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    return ds
