"""Blank zones in the stored values of every frame and every sample, and write Pixel Data back.

- **Native** Pixel Data is changed in place through a numpy view of its bytes: nothing outside
  the zones is decoded or rewritten, so every other byte stays as it was (bits above Bits Stored
  included).
- **Lossless** encapsulated Pixel Data (RLE, JPEG Lossless, JPEG-LS, JPEG 2000 / HTJ2K lossless)
  is decoded frame by frame through the kernel's ranked decoders, blanked, and re-encoded in the
  same transfer syntax through the ranked encoders: one fragment per frame, with a Basic Offset
  Table, the Image Pixel description set as gantry-transcode sets it.
- **Lossy** encapsulated Pixel Data is written as native Explicit VR Little Endian instead:
  encoding it again would lose more, and a lossy encoder may smear the blanked edge back into
  view. Lossy Image Compression stays as it was (the pixels were lossy once).

The fill is the darkest value the image can show: the lowest stored value (MONOCHROME2, RGB,
signed data), the highest for MONOCHROME1 (whose scale is inverted), and for YBR the lowest luma
with neutral chroma (zero chroma is a saturated green, not black).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gantry import DeidError
from gantry.pixels import PixelInfo, decode_frame, encode_frame, stored_range
from gantry.uids import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    HTJ2K_LOSSLESS,
    HTJ2K_LOSSLESS_RPCL,
    IMPLICIT_VR_LITTLE_ENDIAN,
    JPEG2000_LOSSLESS,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    NATIVE,
    RLE_LOSSLESS,
)
from gantry_transcode.transcode import DECODED_PHOTOMETRIC, _native_bytes, _set_pixel_description

from gantry_redact.machines import Zone

#: Encapsulated syntaxes whose encoders give back exactly what they were given.
LOSSLESS_SYNTAXES = frozenset({RLE_LOSSLESS, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, JPEG_LS_LOSSLESS,
                               JPEG2000_LOSSLESS, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL})
OFFSET_TABLES = (0x7FE00001, 0x7FE00002)  # Extended Offset Table and its lengths: stale once re-encoded


@attrs.frozen
class Redaction:
    frames: int
    zones: int
    lossy_source: str | None = None
    """The lossy transfer syntax the Pixel Data came in, when it was written native instead."""


def redact_pixel_data(dataset: Any, zones: Sequence[Zone], kernel: Any, *, where: str) -> Redaction:
    """Blank ``zones`` in every frame of ``dataset``'s Pixel Data (changed in place)."""
    syntax = transfer_syntax_of(dataset)
    info = PixelInfo.from_dataset(dataset, syntax)
    _check_zones_fit(zones, info, where)
    if syntax in NATIVE:
        _redact_native(dataset, info, zones, where)
        return Redaction(frames=info.number_of_frames, zones=len(zones))
    if kernel is None:
        raise DeidError(f"{where}: compressed Pixel Data needs the kernel's codecs (context.kernel is not set)")
    arrays = [_blank(array, info, zones) for array in _decoded_frames(dataset, info, kernel, where)]
    decoded = attrs.evolve(info, planar_configuration=0, photometric_interpretation=DECODED_PHOTOMETRIC.get(
        info.photometric_interpretation, info.photometric_interpretation))
    _drop_offset_tables(dataset)
    if syntax in LOSSLESS_SYNTAXES:
        _write_encapsulated(dataset, arrays, decoded, kernel, where)
        return Redaction(frames=len(arrays), zones=len(zones))
    _write_native(dataset, arrays, decoded)
    return Redaction(frames=len(arrays), zones=len(zones), lossy_source=syntax)


def transfer_syntax_of(dataset: Any) -> str:
    meta = getattr(dataset, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return str(syntax)
    implicit, little = dataset.original_encoding  # a dataset built in memory, without File Meta
    if implicit:
        return IMPLICIT_VR_LITTLE_ENDIAN
    return EXPLICIT_VR_BIG_ENDIAN if little is False else EXPLICIT_VR_LITTLE_ENDIAN


def fill_values(info: PixelInfo) -> tuple[int, ...]:
    """The darkest stored value, per sample."""
    low, high = stored_range(info)
    photometric = info.photometric_interpretation
    if photometric == "MONOCHROME1":
        return (high,)
    if photometric.startswith("YBR") and info.samples_per_pixel == 3:
        neutral = (low + high + 1) // 2
        return (low, neutral, neutral)
    return (low,) * info.samples_per_pixel


def _check_zones_fit(zones: Sequence[Zone], info: PixelInfo, where: str) -> None:
    # Fail closed: a zone cut off by the image edge would leave text a person expected gone.
    for number, zone in enumerate(zones):
        if zone.bottom > info.rows or zone.right > info.columns:
            raise DeidError(f"{where}: redaction zone {number} reaches beyond the image "
                            f"({info.rows} rows x {info.columns} columns)")


def _blank(array: Any, info: PixelInfo, zones: Sequence[Zone]) -> Any:
    """``array`` (frame shaped as the codec contract says) with the zones filled."""
    import numpy as np

    array = np.array(array, copy=True)  # decoders may hand back read-only buffers
    fill = fill_values(info)
    for zone in zones:
        region = array[zone.top:zone.bottom, zone.left:zone.right]
        region[...] = fill if array.ndim == 3 else fill[0]
    return array


def _redact_native(dataset: Any, info: PixelInfo, zones: Sequence[Zone], where: str) -> None:
    import numpy as np

    if info.bits_allocated == 1:
        raise DeidError(f"{where}: 1-bit Pixel Data is not redacted (not supported yet)")
    data = bytearray(dataset.PixelData)
    needed = info.native_frame_length * info.number_of_frames
    if len(data) < needed:
        raise DeidError(f"{where}: Pixel Data holds {len(data)} bytes; the Image Pixel module needs {needed}")
    dtype = info.dtype()
    if info.transfer_syntax == EXPLICIT_VR_BIG_ENDIAN:
        dtype = dtype.newbyteorder(">")
    view = np.frombuffer(data, dtype=dtype, count=needed // dtype.itemsize)
    frames, samples = info.number_of_frames, info.samples_per_pixel
    fill = fill_values(info)
    if samples > 1 and info.planar_configuration == 1:
        planes = view.reshape(frames, samples, info.rows, info.columns)
        for zone in zones:
            for sample in range(samples):
                planes[:, sample, zone.top:zone.bottom, zone.left:zone.right] = fill[sample]
    else:
        pixels = view.reshape(frames, info.rows, info.columns, samples)
        for zone in zones:
            pixels[:, zone.top:zone.bottom, zone.left:zone.right, :] = fill
    dataset.PixelData = bytes(data)


def _decoded_frames(dataset: Any, info: PixelInfo, kernel: Any, where: str) -> list[Any]:
    from pydicom.encaps import generate_frames

    try:
        frames = list(generate_frames(dataset.PixelData, number_of_frames=info.number_of_frames))
    except (ValueError, KeyError) as err:
        raise DeidError(f"{where}: encapsulated Pixel Data is damaged: {err}") from err
    if len(frames) != info.number_of_frames:
        raise DeidError(f"{where}: Number of Frames is {info.number_of_frames} but the Pixel Data holds {len(frames)}")
    return [decode_frame(kernel, frame, info, what=f"{where} frame {index}")
            for index, frame in enumerate(frames, start=1)]


def _write_encapsulated(dataset: Any, arrays: list[Any], info: PixelInfo, kernel: Any, where: str) -> None:
    from pydicom.encaps import encapsulate

    syntax = info.transfer_syntax
    fragments, photometric = [], ""
    for index, array in enumerate(arrays, start=1):
        frame = encode_frame(kernel, array, info, syntax, what=f"{where} frame {index}")
        if frame.lossy:
            raise DeidError(f"{where}: the {syntax} encoder reported a lossy result; the redacted image "
                            "would not be the one checked")
        if photometric and frame.photometric_interpretation != photometric:
            raise DeidError(f"{where}: the encoder changed the photometric interpretation between frames")
        photometric = frame.photometric_interpretation
        fragments.append(bytes(frame.data))
    dataset.PixelData = encapsulate(fragments, has_bot=True)  # one fragment per frame
    element = dataset["PixelData"]
    element.VR, element.is_undefined_length = "OB", True
    _set_pixel_description(dataset, info, photometric, syntax)


def _write_native(dataset: Any, arrays: list[Any], info: PixelInfo) -> None:
    data = b"".join(_native_bytes(array, EXPLICIT_VR_LITTLE_ENDIAN) for array in arrays)
    dataset.PixelData = data + (b"\x00" if len(data) % 2 else b"")
    element = dataset["PixelData"]
    element.VR, element.is_undefined_length = ("OB" if info.bits_allocated <= 8 else "OW"), False
    dataset.PhotometricInterpretation = info.photometric_interpretation
    if info.samples_per_pixel > 1:
        dataset.PlanarConfiguration = 0
    dataset.file_meta.TransferSyntaxUID = EXPLICIT_VR_LITTLE_ENDIAN
    dataset.set_original_encoding(False, True, dataset.original_character_set)


def _drop_offset_tables(dataset: Any) -> None:
    for tag in OFFSET_TABLES:
        if tag in dataset:
            del dataset[tag]
