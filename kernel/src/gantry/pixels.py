"""Pixel data: what codecs are given, what they must return, and the dispatch through the ranking.

The codec contract (see also :mod:`gantry.hookspecs.codecs`):

``decode(frame: bytes, info: PixelInfo) -> numpy.ndarray``
    ``frame`` is one encoded frame (all its fragments joined). Return the samples as stored, in
    the photometric interpretation the dataset declares (``info.photometric_interpretation``),
    with no colour conversion, except that YBR_FULL_422 comes back at full resolution
    (as YBR_FULL), and YBR_RCT / YBR_ICT come back as RGB (JPEG 2000 decoding itself undoes
    its multiple-component transform). Shape ``(rows, columns)`` for one sample per pixel, ``(rows, columns,
    samples)`` otherwise (interleaved, whatever the stored Planar Configuration). dtype:
    :meth:`PixelInfo.dtype` (unsigned or signed by Pixel Representation, the smallest of 8,
    16 or 32 bits that holds Bits Allocated); signed values sign-extended from Bits Stored.
    Raise when the stream is damaged; never return what was not decoded.

``encode(array: numpy.ndarray, info: PixelInfo, options: EncodeOptions) -> EncodedFrame``
    ``array`` is one frame shaped as above, in ``info.photometric_interpretation``. Return the
    codestream and the photometric interpretation of what was encoded (an encoder may change it:
    RGB becomes YBR_FULL_422 in JPEG Baseline, YBR_RCT or YBR_ICT in JPEG 2000 with colour
    transform), and whether it is lossy, with the Lossy Image Compression Method code.

The kernel checks every decoded frame against ``info`` (shape and dtype) before it is used, so a
sloppy decoder hands over to the next-ranked one instead of passing on a wrong image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from gantry.errors import CodecError

if TYPE_CHECKING:
    import numpy as np

    from gantry.kernel import Kernel

COLOUR_SPACES = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420")
MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


@attrs.frozen(kw_only=True)
class PixelInfo:
    """The Image Pixel module of one dataset, as a codec needs it."""

    rows: int
    columns: int
    samples_per_pixel: int = 1
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    photometric_interpretation: str = "MONOCHROME2"
    planar_configuration: int = 0
    number_of_frames: int = 1
    transfer_syntax: str = ""

    @classmethod
    def from_dataset(cls, dataset: Any, transfer_syntax: str | None = None) -> PixelInfo:
        """Read the Image Pixel module; a missing or impossible value is a CodecError naming it."""
        missing = [k for k in ("Rows", "Columns", "BitsAllocated") if dataset.get(k) in (None, "")]
        if missing:
            raise CodecError(f"the dataset lacks {', '.join(missing)}: it holds no image pixel description")
        meta = getattr(dataset, "file_meta", None)
        syntax = transfer_syntax or (str(meta.get("TransferSyntaxUID", "")) if meta is not None else "")
        try:
            frames = int(dataset.get("NumberOfFrames") or 1)
        except (TypeError, ValueError) as err:
            raise CodecError(f"Number of Frames is not a number: {err}") from err
        info = cls(
            rows=int(dataset.Rows),
            columns=int(dataset.Columns),
            samples_per_pixel=int(dataset.get("SamplesPerPixel") or 1),
            bits_allocated=int(dataset.BitsAllocated),
            bits_stored=int(dataset.get("BitsStored") or dataset.BitsAllocated),
            pixel_representation=int(dataset.get("PixelRepresentation") or 0),
            photometric_interpretation=str(dataset.get("PhotometricInterpretation") or "MONOCHROME2").strip(),
            planar_configuration=int(dataset.get("PlanarConfiguration") or 0),
            number_of_frames=frames,
            transfer_syntax=syntax,
        )
        info.validate()
        return info

    def validate(self) -> None:
        problems = []
        if self.rows < 1 or self.columns < 1:
            problems.append(f"Rows x Columns is {self.rows} x {self.columns}")
        if self.bits_allocated not in (1, 8, 16, 32, 64):
            problems.append(f"Bits Allocated is {self.bits_allocated} (expected 1, 8, 16, 32 or 64)")
        if not 1 <= self.bits_stored <= self.bits_allocated:
            problems.append(f"Bits Stored {self.bits_stored} does not fit Bits Allocated {self.bits_allocated}")
        if self.samples_per_pixel not in (1, 3, 4):
            problems.append(f"Samples per Pixel is {self.samples_per_pixel}")
        if self.number_of_frames < 1:
            problems.append(f"Number of Frames is {self.number_of_frames}")
        if problems:
            raise CodecError("invalid Image Pixel module: " + "; ".join(problems))

    @property
    def signed(self) -> bool:
        return self.pixel_representation == 1

    @property
    def frame_shape(self) -> tuple[int, ...]:
        if self.samples_per_pixel == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples_per_pixel)

    def dtype(self) -> np.dtype[Any]:
        import numpy as np

        size = 8 if self.bits_allocated <= 8 else 16 if self.bits_allocated <= 16 else 32 if self.bits_allocated <= 32 else 64
        return np.dtype(f"{'i' if self.signed else 'u'}{size // 8}")

    @property
    def native_frame_length(self) -> int:
        """Bytes one frame takes in a native (uncompressed) transfer syntax."""
        bits = self.rows * self.columns * self.samples_per_pixel * self.bits_allocated
        return (bits + 7) // 8


@attrs.frozen(kw_only=True)
class EncodeOptions:
    """How lossy an encoder may be; lossless encoders ignore these."""

    quality: int = 90
    """JPEG Baseline/Extended quality, 1 to 100."""
    ratio: float = 10.0
    """Target compression ratio for lossy JPEG 2000 and HTJ2K."""
    near: int = 2
    """JPEG-LS near-lossless: the largest error allowed per sample."""


@attrs.frozen(kw_only=True)
class EncodedFrame:
    data: bytes
    photometric_interpretation: str
    lossy: bool = False
    method: str = ""
    """Lossy Image Compression Method (0028,2114) when lossy, e.g. ISO_10918_1, ISO_15444_1, ISO_14495_1."""


# -- samples as DICOM defines them: Bits Stored bits of a Bits Allocated container (PS3.5 8.1.1),
#    two's complement when Pixel Representation is 1. Codecs share these checks.

def checked_frame(array: Any, info: PixelInfo) -> np.ndarray:
    """The frame as ``info.dtype()``; ValueError if its shape, type or values do not fit ``info``."""
    import numpy as np

    array = np.asarray(array)
    if array.shape != info.frame_shape:
        raise ValueError(f"the frame is shaped {array.shape}; the dataset's Image Pixel module says {info.frame_shape}")
    if array.dtype.kind not in "ui":
        raise ValueError(f"the frame holds {array.dtype} values; an integer type is needed")
    low, high = stored_range(info)
    if array.size:
        least, most = int(array.min()), int(array.max())
        if least < low or most > high:
            kind = "signed" if info.signed else "unsigned"
            raise ValueError(
                f"the frame's values {least}..{most} lie outside {low}..{high}, "
                f"the range of {info.bits_stored}-bit {kind} samples (Bits Stored)"
            )
    return array.astype(info.dtype())


def stored_range(info: PixelInfo) -> tuple[int, int]:
    bits = info.bits_stored
    if info.signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def as_stored(samples: np.ndarray, info: PixelInfo) -> np.ndarray:
    """Unsigned samples to ``info.dtype()``, keeping Bits Stored bits only: signed values are
    sign-extended from Bits Stored, unsigned ones masked (the bits above are not part of the
    value, PS3.5 8.1.1)."""
    import numpy as np

    dtype = info.dtype()
    out = samples.astype(dtype.str.replace("i", "u"))
    unused = dtype.itemsize * 8 - info.bits_stored
    if info.signed:
        out = out.view(dtype)
        if unused:
            np.left_shift(out, unused, out=out)
            np.right_shift(out, unused, out=out)  # arithmetic shift on a signed type
    elif unused:
        np.bitwise_and(out, (1 << info.bits_stored) - 1, out=out)
    return out


def check_decoded(array: Any, info: PixelInfo) -> None:
    """Raise ValueError when a decoder's result does not match the dataset (the kernel then
    tries the next decoder)."""
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise ValueError(f"the decoder returned {type(array).__name__}, not a numpy array")
    if array.shape != info.frame_shape:
        raise ValueError(f"decoded shape {array.shape} does not match the dataset's {info.frame_shape}")
    expected = info.dtype()
    if array.dtype.kind != expected.kind or array.dtype.itemsize != expected.itemsize:
        raise ValueError(f"decoded dtype {array.dtype} does not match the dataset's {expected}")


def check_encoded(result: Any) -> None:
    if not isinstance(result, EncodedFrame) or not isinstance(result.data, (bytes, bytearray)) or not result.data:
        raise ValueError(f"the encoder returned {type(result).__name__}, not a non-empty EncodedFrame")


def decode_frame(kernel: Kernel, frame: bytes, info: PixelInfo, *, what: str = "") -> np.ndarray:
    """Decode one frame through the ranked decoders for ``info.transfer_syntax``."""
    return kernel.call("decoder", info.transfer_syntax, frame, info, what=what,
                       check=lambda array: check_decoded(array, info))


def encode_frame(kernel: Kernel, array: Any, info: PixelInfo, transfer_syntax: str,
                 options: EncodeOptions | None = None, *, what: str = "") -> EncodedFrame:
    """Encode one frame through the ranked encoders for ``transfer_syntax``."""
    return kernel.call("encoder", transfer_syntax, array, info, options or EncodeOptions(), what=what,
                       check=check_encoded)
