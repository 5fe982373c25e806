"""Transcode one file: read frames one at a time, re-encode them, write the result atomically.

Memory stays at about one frame whatever the file size: frames come from :mod:`gantry.frames`,
encoded frames go to a spool file beside the destination, and the output is assembled from the
spool. (Deflated output is the exception: its whole dataset is compressed as one stream, so it
is built in memory.) The source is only read; the destination appears, complete, by rename, or
not at all.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import IO, Any

import attrs

from gantry.errors import CodecError, GantryError
from gantry.frames import PixelSource, open_pixels
from gantry.pixels import EncodedFrame, EncodeOptions, PixelInfo, encode_frame
from gantry.uids import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    NATIVE,
    RLE_LOSSLESS,
    transfer_syntax,
)

ITEM, SEQUENCE_DELIMITER = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
MAX_BASIC_OFFSET = 0xFFFFFFFF
# What a decoder hands back for each stored photometric interpretation (see gantry.pixels).
DECODED_PHOTOMETRIC = {"YBR_FULL_422": "YBR_FULL", "YBR_RCT": "RGB", "YBR_ICT": "RGB"}


@attrs.frozen(kw_only=True)
class TranscodeResult:
    source: str
    destination: str | None
    ok: bool
    reason: str = ""
    from_syntax: str = ""
    to_syntax: str = ""
    frames: int = 0
    lossy: bool = False
    new_sop_instance_uid: str | None = None
    """Set when the output is lossy: a lossy copy is a new instance."""
    unchanged: bool = False
    """The source already had the target syntax: its bytes were copied as they are."""

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def transcode_file(kernel: Any, source: str | os.PathLike[str], destination: str | os.PathLike[str],
                   to: str, options: EncodeOptions | None = None) -> TranscodeResult:
    """Transcode ``source`` into ``destination``; failures are reported, never raised."""
    source, destination = os.fspath(source), os.fspath(destination)
    try:
        target = transfer_syntax(to)
    except ValueError as err:
        return TranscodeResult(source=source, destination=None, ok=False, reason=str(err))
    try:
        with open_pixels(kernel, source) as pixels:
            return _transcode(kernel, pixels, Path(destination), target, options or EncodeOptions())
    except (GantryError, OSError, ValueError) as err:
        return TranscodeResult(source=source, destination=None, ok=False, to_syntax=target,
                               reason=str(err) if isinstance(err, GantryError) else f"{source!r}: {err}")


def _transcode(kernel: Any, pixels: PixelSource, destination: Path, target: str,
               options: EncodeOptions) -> TranscodeResult:
    info = pixels.info
    destination.parent.mkdir(parents=True, exist_ok=True)
    common = {"source": pixels.path, "from_syntax": info.transfer_syntax, "to_syntax": target,
              "frames": info.number_of_frames}
    if info.transfer_syntax == target:
        with _atomic(destination) as out, open(pixels.path, "rb") as original:
            shutil.copyfileobj(original, out)
        return TranscodeResult(destination=str(destination), ok=True, unchanged=True, **common)
    decoded = attrs.evolve(info, photometric_interpretation=DECODED_PHOTOMETRIC.get(
        info.photometric_interpretation, info.photometric_interpretation), planar_configuration=0)
    header = pixels.header
    header.file_meta.TransferSyntaxUID = target
    for tag in (0x7FE00001, 0x7FE00002):  # offset tables of the source no longer apply
        if tag in header:
            del header[tag]
    if target in NATIVE:
        _write_native(pixels, header, decoded, destination, target)
        return TranscodeResult(destination=str(destination), ok=True, **common)
    with tempfile.TemporaryFile(dir=destination.parent, prefix=".gantry-spool-") as spool:
        lengths, encoded_pm, lossy, methods = _encode_frames(kernel, pixels, decoded, target, options, spool)
        _set_pixel_description(header, decoded, encoded_pm, target)
        new_uid = None
        if lossy:
            new_uid = _mark_lossy(header, decoded, sum(lengths), methods)
        _write_encapsulated(header, spool, lengths, destination)
    return TranscodeResult(destination=str(destination), ok=True, lossy=lossy, new_sop_instance_uid=new_uid,
                           **common)


def _encode_frames(kernel: Any, pixels: PixelSource, info: PixelInfo, target: str, options: EncodeOptions,
                   spool: IO[bytes]) -> tuple[list[int], str, bool, list[str]]:
    lengths: list[int] = []
    photometric, lossy, methods = "", False, []
    for index, array in enumerate(pixels.arrays(), start=1):
        what = f"{pixels.path!r} frame {index}"
        frame: EncodedFrame = encode_frame(kernel, array, info, target, options, what=what)
        if photometric and frame.photometric_interpretation != photometric:
            raise CodecError(f"{what}: the encoder changed the photometric interpretation between frames "
                             f"({photometric} then {frame.photometric_interpretation})")
        photometric = frame.photometric_interpretation
        lossy = lossy or frame.lossy
        if frame.lossy and frame.method and frame.method not in methods:
            methods.append(frame.method)
        data = bytes(frame.data) + (b"\x00" if len(frame.data) % 2 else b"")  # items have even lengths
        spool.write(data)
        lengths.append(len(data))
    return lengths, photometric, lossy, methods


def _set_pixel_description(header: Any, info: PixelInfo, photometric: str, target: str) -> None:
    header.PhotometricInterpretation = photometric or info.photometric_interpretation
    if info.samples_per_pixel > 1:
        # PS3.5 G.2: RLE stores colour by plane (1); every other encapsulated syntax interleaves (0).
        header.PlanarConfiguration = 1 if target == RLE_LOSSLESS else 0
    elif "PlanarConfiguration" in header:
        del header.PlanarConfiguration


def _mark_lossy(header: Any, info: PixelInfo, compressed: int, methods: list[str]) -> str:
    from pydicom.uid import generate_uid

    uncompressed = info.native_frame_length * info.number_of_frames
    ratios = list(_values(header.get("LossyImageCompressionRatio")))
    previous_methods = list(_values(header.get("LossyImageCompressionMethod")))
    header.LossyImageCompression = "01"  # once lossy, always lossy
    header.LossyImageCompressionRatio = ratios + [f"{uncompressed / max(compressed, 1):.4g}"]
    if methods:
        header.LossyImageCompressionMethod = previous_methods + methods
    new_uid = generate_uid()
    header.SOPInstanceUID = new_uid
    header.file_meta.MediaStorageSOPInstanceUID = new_uid
    return new_uid


def _values(value: Any) -> list[Any]:
    from pydicom.multival import MultiValue

    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]


def _write_encapsulated(header: Any, spool: IO[bytes], lengths: list[int], destination: Path) -> None:
    offsets, position = [], 0
    for length in lengths:
        offsets.append(position)
        position += 8 + length  # item tag and length, then the fragment
    if position > MAX_BASIC_OFFSET:
        # Too big for 32-bit offsets: an empty Basic Offset Table and an Extended Offset Table.
        header.ExtendedOffsetTable = struct.pack(f"<{len(offsets)}Q", *offsets)
        header.ExtendedOffsetTableLengths = struct.pack(f"<{len(lengths)}Q", *lengths)
        basic = b""
    else:
        basic = struct.pack(f"<{len(offsets)}I", *offsets)
    with _atomic(destination) as out:
        _write_header(header, out)
        out.write(_tag(0x7FE0, 0x0010) + b"OB\x00\x00" + struct.pack("<I", 0xFFFFFFFF))
        out.write(_tag(*ITEM) + struct.pack("<I", len(basic)) + basic)
        spool.seek(0)
        for length in lengths:
            out.write(_tag(*ITEM) + struct.pack("<I", length))
            out.write(spool.read(length))
        out.write(_tag(*SEQUENCE_DELIMITER) + b"\x00\x00\x00\x00")


def _write_native(pixels: PixelSource, header: Any, info: PixelInfo, destination: Path, target: str) -> None:
    header.PhotometricInterpretation = info.photometric_interpretation
    if info.samples_per_pixel > 1:
        header.PlanarConfiguration = 0
    frames = (_native_bytes(array, target) for array in pixels.arrays())
    if target == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
        # The whole dataset is one deflate stream: built in memory, then written atomically.
        data = b"".join(frames)
        header.PixelData = data + (b"\x00" if len(data) % 2 else b"")
        header["PixelData"].VR = "OB" if info.bits_allocated <= 8 else "OW"
        with _atomic(destination) as out:
            _write_header(header, out)
        return
    length = info.native_frame_length * info.number_of_frames
    little = target != EXPLICIT_VR_BIG_ENDIAN
    order = "<" if little else ">"
    with _atomic(destination) as out:
        _write_header(header, out)
        tag = struct.pack(order + "HH", 0x7FE0, 0x0010)
        padded = length + length % 2
        if target == IMPLICIT_VR_LITTLE_ENDIAN:
            out.write(tag + struct.pack("<I", padded))
        else:
            vr = b"OB" if info.bits_allocated <= 8 else b"OW"
            out.write(tag + vr + b"\x00\x00" + struct.pack(order + "I", padded))
        for frame in frames:
            out.write(frame)
        if length % 2:
            out.write(b"\x00")


def _native_bytes(array: Any, target: str) -> bytes:
    if target == EXPLICIT_VR_BIG_ENDIAN and array.dtype.itemsize > 1:
        return array.astype(array.dtype.newbyteorder(">")).tobytes()
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


def _write_header(header: Any, out: IO[bytes]) -> None:
    import pydicom

    pydicom.dcmwrite(out, header, enforce_file_format=True)


def _tag(group: int, element: int) -> bytes:
    return struct.pack("<HH", group, element)


class _atomic:
    """Write to a temporary file beside ``path``; fsync and rename on success, delete on failure."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> IO[bytes]:
        handle = tempfile.NamedTemporaryFile(dir=self.path.parent, prefix=f".{self.path.name}.",
                                             suffix=".partial", delete=False)
        self.handle = handle
        return handle

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            if kind is None:
                self.handle.flush()
                os.fsync(self.handle.fileno())
            self.handle.close()
            if kind is None:
                os.replace(self.handle.name, self.path)
        finally:
            if os.path.exists(self.handle.name):
                os.unlink(self.handle.name)
