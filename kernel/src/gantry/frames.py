"""Frame-by-frame access to a file's Pixel Data, without loading all of it into memory.

    with open_pixels(kernel, "big-multiframe.dcm") as pixels:
        for index, array in enumerate(pixels.arrays()):   # one decoded frame at a time
            ...

The header is read (and checked whole) by the kernel's readers; Pixel Data is then located in
the file and read one frame at a time: native frames by offset, encapsulated frames through
their item headers (pydicom's frame generator over the open file). Deflated files are the one
exception: their dataset is compressed as a whole, so it is inflated into memory first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from gantry.errors import CodecError
from gantry.pixels import PixelInfo, as_stored, decode_frame
from gantry.uids import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    NATIVE,
)

if TYPE_CHECKING:
    import numpy as np

    from gantry.kernel import Kernel

PIXEL_DATA = 0x7FE00010


class PixelSource:
    """An open file's Pixel Data. Use as a context manager, or call :meth:`close`."""

    def __init__(self, kernel: Kernel, path: str | os.PathLike[str]) -> None:
        self.kernel, self.path = kernel, os.fspath(path)
        self.header = kernel.read(self.path, stop_before_pixels=True)
        self.info = PixelInfo.from_dataset(self.header)
        self.encapsulated = self.info.transfer_syntax not in NATIVE
        self._handle: IO[bytes] | None = None
        self._in_memory: bytes | None = None
        self._value_offset = self._value_length = 0
        self._locate()

    # -- locating -------------------------------------------------------------------------

    def _locate(self) -> None:
        import pydicom

        if self.info.transfer_syntax == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
            dataset = self.kernel.read(self.path)
            self._in_memory = self._pixel_bytes(dataset)
            return
        self._handle = open(self.path, "rb")
        # The header was checked by the kernel's reader; force: raw datasets have no preamble.
        pydicom.dcmread(self._handle, stop_before_pixels=True, force=True)  # stops at Pixel Data
        start = self._handle.tell()
        header = self._handle.read(12)
        little = self.info.transfer_syntax != EXPLICIT_VR_BIG_ENDIAN
        order = "little" if little else "big"
        tag = int.from_bytes(header[0:2], order) << 16 | int.from_bytes(header[2:4], order)
        if len(header) < 8 or tag != PIXEL_DATA:
            self.close()
            raise CodecError(f"{self.path!r}: no Pixel Data (7FE0,0010) element")
        explicit = self.info.transfer_syntax != IMPLICIT_VR_LITTLE_ENDIAN
        if explicit and header[4:6] in (b"OB", b"OW", b"UN"):
            self._value_length, self._value_offset = int.from_bytes(header[8:12], order), start + 12
        elif explicit:
            self._value_length, self._value_offset = int.from_bytes(header[6:8], order), start + 8
        else:
            self._value_length, self._value_offset = int.from_bytes(header[4:8], order), start + 8

    def _pixel_bytes(self, dataset: Any) -> bytes:
        if "PixelData" not in dataset:
            raise CodecError(f"{self.path!r}: no Pixel Data (7FE0,0010) element")
        return bytes(dataset.PixelData)

    # -- frames ---------------------------------------------------------------------------

    def encoded_frames(self) -> Iterator[bytes]:
        """Each frame's bytes as stored: native frame bytes or an encapsulated frame's fragments joined."""
        if not self.encapsulated:
            yield from self._native_frames()
            return
        from pydicom.encaps import generate_frames

        frames = self.info.number_of_frames
        if self._in_memory is not None:
            buffer: Any = self._in_memory
        else:
            assert self._handle is not None
            self._handle.seek(self._value_offset)
            buffer = self._handle
        count = 0
        try:
            for count, frame in enumerate(generate_frames(buffer, number_of_frames=frames), start=1):
                yield frame
        except (ValueError, KeyError) as err:
            raise CodecError(f"{self.path!r}: encapsulated Pixel Data is damaged after frame {count}: {err}") from err
        if count != frames:
            raise CodecError(f"{self.path!r}: Number of Frames is {frames} but the Pixel Data holds {count}")

    def _native_frames(self) -> Iterator[bytes]:
        length = self.info.native_frame_length
        if self.info.bits_allocated == 1:
            raise CodecError(f"{self.path!r}: 1-bit native Pixel Data is not supported by frame access yet")
        for index in range(self.info.number_of_frames):
            start = index * length
            if self._in_memory is not None:
                data = self._in_memory[start : start + length]
            else:
                assert self._handle is not None
                self._handle.seek(self._value_offset + start)
                data = self._handle.read(length)
            if len(data) != length:
                raise CodecError(f"{self.path!r}: frame {index + 1} is cut short: {len(data)} of {length} bytes")
            yield data

    def arrays(self) -> Iterator[np.ndarray]:
        """Each frame decoded (through the ranked decoders when encapsulated), one at a time."""
        for index, frame in enumerate(self.encoded_frames(), start=1):
            what = f"{self.path!r} frame {index}"
            if self.encapsulated:
                yield decode_frame(self.kernel, frame, self.info, what=what)
            else:
                yield native_to_array(frame, self.info)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> PixelSource:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_pixels(kernel: Kernel, path: str | os.PathLike[str]) -> PixelSource:
    return PixelSource(kernel, path)


def native_to_array(frame: bytes, info: PixelInfo) -> np.ndarray:
    """One native frame as the decoder contract shapes it (interleaved, sign-extended)."""
    import numpy as np

    dtype = info.dtype()
    if info.transfer_syntax == EXPLICIT_VR_BIG_ENDIAN:
        dtype = dtype.newbyteorder(">")
    array = np.frombuffer(frame, dtype=dtype).astype(info.dtype(), copy=True)
    if info.samples_per_pixel > 1 and info.planar_configuration == 1:
        array = array.reshape(info.samples_per_pixel, info.rows, info.columns).transpose(1, 2, 0).copy()
    else:
        array = array.reshape(info.frame_shape)
    return as_stored(array, info)
