"""Rendering one decoded frame into a consumer image (PS3.18 rendered and thumbnail resources).

Pure functions, no HTTP: a dataset header (pydicom, without its Pixel Data) and one decoded frame
(as :mod:`gantry.pixels` hands frames over: stored values, interleaved samples) go in; 8-bit JPEG
or PNG bytes come out.

    options = RenderOptions(media_type="image/png", window=parse_window("40,400,linear"),
                            viewport=parse_viewport("256,256"))
    image = render(header, frame, options, frame_index=0)       # RenderedImage(data, width, ...)

The grey-scale pipeline is the one PS3.3 C.11 describes, in its order:

1. **Modality LUT**: the Modality LUT Sequence when present, else Rescale Slope and Intercept
   (from the Pixel Value Transformation functional group of enhanced multi-frame objects when
   they carry one, shared or per frame).
2. **VOI**: the ``window`` the request asks for; otherwise the dataset's first VOI LUT (the VOI LUT
   Sequence, through pydicom's ``apply_voi``), else its first Window Center / Width with its VOI
   LUT Function (LINEAR, LINEAR_EXACT or SIGMOID, PS3.3 C.11.2.1.2 and C.11.2.1.3), else the
   frame's own minimum to maximum mapped linearly onto 0..255.
3. **Presentation**: MONOCHROME1 is inverted (low values white).

Colour images keep their colour: RGB as it is, YBR_FULL / YBR_FULL_422 (decoded at full
resolution) and YBR_PARTIAL_420 converted to RGB, PALETTE COLOR through its lookup tables;
samples wider than 8 bits are scaled onto 0..255. A requested ``window`` does not apply to them.

Then the viewport (PS3.18 8.3.5.1.3): an optional source region ``sx,sy,sw,sh`` (a negative
``sw``/``sh`` flips), scaled to fit ``vw x vh`` with its aspect ratio kept; the result is the
scaled image, not padded to the viewport. Outputs are 8 bits per channel (PS3.18 8.7.4): JPEG
baseline (``quality`` 1..100, default 90) or PNG.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import numpy as np

JPEG = "image/jpeg"
PNG = "image/png"
#: The media types rendered resources are offered in, the default first.
MEDIA_TYPES = (JPEG, PNG)

FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
#: Spellings of the window function accepted in ``window=center,width,function``: PS3.18 spells
#: them ``linear``, ``linear-exact`` and ``sigmoid``; the VOI LUT Function terms work too.
_FUNCTION_NAMES = {"linear": "LINEAR", "linear-exact": "LINEAR_EXACT", "linear_exact": "LINEAR_EXACT",
                   "sigmoid": "SIGMOID"}

DEFAULT_QUALITY = 90
THUMBNAIL_SIZE = 128
"""Thumbnails fit a square of this many pixels (longest side) unless a viewport says otherwise."""
MAX_VIEWPORT = 8192
"""The largest viewport side rendered (a larger one is a bad request, not a memory bomb)."""

_COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_420", "YBR_PARTIAL_422", "YBR_RCT", "YBR_ICT")


class RenderingError(ValueError):
    """A rendering parameter is malformed or out of range (HTTP 400): the message says which."""


class NotRenderable(ValueError):
    """The instance holds nothing this renderer can turn into an image (no pixel data, or a
    photometric interpretation it does not know)."""


@attrs.frozen
class Window:
    center: float
    width: float
    function: str = "LINEAR"


@attrs.frozen
class Viewport:
    width: int
    height: int
    source: tuple[int, int, int, int] | None = None
    """``(sx, sy, sw, sh)`` in frame pixels; None for the whole frame."""


@attrs.frozen(kw_only=True)
class RenderOptions:
    media_type: str = JPEG
    quality: int | None = None
    window: Window | None = None
    viewport: Viewport | None = None
    thumbnail: bool = False
    """Without a viewport, fit the image in THUMBNAIL_SIZE x THUMBNAIL_SIZE."""


@attrs.frozen
class RenderedImage:
    data: bytes
    media_type: str
    width: int
    height: int


# -- request parameters ---------------------------------------------------------------------


def parse_window(text: str) -> Window:
    """``center,width[,function]`` (function: linear, linear-exact, sigmoid; any case, ``_`` or
    ``-``; linear when left out). LINEAR needs a width of at least 1, the others more than 0."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in (2, 3):
        raise RenderingError(f"window={text!r}: expected center,width,function "
                             "(function: linear, linear-exact or sigmoid)")
    try:
        center, width = float(parts[0]), float(parts[1])
    except ValueError:
        raise RenderingError(f"window={text!r}: center and width must be numbers") from None
    if not (math.isfinite(center) and math.isfinite(width)):
        raise RenderingError(f"window={text!r}: center and width must be finite numbers")
    function = "LINEAR"
    if len(parts) == 3:
        function = _FUNCTION_NAMES.get(parts[2].lower(), "")
        if not function:
            raise RenderingError(f"window={text!r}: unknown function {parts[2]!r} "
                                 "(expected linear, linear-exact or sigmoid)")
    check_window(Window(center, width, function), f"window={text!r}")
    return Window(center, width, function)


def check_window(window: Window, what: str) -> None:
    if window.function == "LINEAR" and window.width < 1:
        raise RenderingError(f"{what}: a linear window needs a width of at least 1")
    if window.width <= 0:
        raise RenderingError(f"{what}: the window width must be greater than 0")


def parse_viewport(text: str) -> Viewport:
    """``vw,vh`` or ``vw,vh,sx,sy,sw,sh`` (PS3.18 8.3.5.1.3); sx, sy default to 0 and sw, sh to
    the rest of the frame when left empty."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in (2, 6):
        raise RenderingError(f"viewport={text!r}: expected vw,vh or vw,vh,sx,sy,sw,sh")
    try:
        width, height = int(parts[0]), int(parts[1])
    except ValueError:
        raise RenderingError(f"viewport={text!r}: vw and vh must be whole numbers") from None
    if not (1 <= width <= MAX_VIEWPORT and 1 <= height <= MAX_VIEWPORT):
        raise RenderingError(f"viewport={text!r}: vw and vh must lie between 1 and {MAX_VIEWPORT}")
    if len(parts) == 2:
        return Viewport(width, height)
    try:
        sx, sy = (int(part) if part else 0 for part in parts[2:4])
        sw, sh = (int(part) if part else 0 for part in parts[4:6])
    except ValueError:
        raise RenderingError(f"viewport={text!r}: sx, sy, sw and sh must be whole numbers") from None
    if sx < 0 or sy < 0:
        raise RenderingError(f"viewport={text!r}: sx and sy may not be negative")
    return Viewport(width, height, (sx, sy, sw, sh))


def parse_quality(text: str) -> int:
    try:
        quality = int(text.strip())
    except ValueError:
        raise RenderingError(f"quality={text!r}: expected a whole number from 1 to 100") from None
    if not 1 <= quality <= 100:
        raise RenderingError(f"quality={text!r}: expected a whole number from 1 to 100")
    return quality


def choose_media_type(accept: str | None, offered: tuple[str, ...] = MEDIA_TYPES) -> str | None:
    """The media type to answer in for an ``Accept`` value (header, or the ``accept`` query
    parameter): the first offered type with the highest quality value; ``image/*`` and ``*/*``
    take the default (JPEG); no value at all means the default. None when nothing offered is
    acceptable (HTTP 406)."""
    if accept is None or not accept.strip():
        return offered[0]
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        fields = [field.strip() for field in item.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        weight = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            ranked.append((-weight, position, media))
    for _, _, media in sorted(ranked):
        if media in offered:
            return media
        if media in ("*/*", "image/*"):
            return offered[0]
    return None


# -- the per-frame view of the pixel transformation attributes -------------------------------


def frame_view(header: Any, frame_index: int = 0) -> Any:
    """A small Dataset with what rendering frame ``frame_index`` (0-based) needs: every group
    0028 element of ``header``, overridden by the Pixel Value Transformation and Frame VOI LUT
    functional groups of an enhanced multi-frame object (shared, then this frame's own)."""
    from pydicom.dataset import Dataset

    view = Dataset()
    for element in header:
        if element.tag.group == 0x0028:
            view.add(element)
    meta = getattr(header, "file_meta", None)
    if meta is not None:
        view.file_meta = meta
    view.set_original_encoding(*_encoding(header))
    groups = []
    shared = header.get("SharedFunctionalGroupsSequence")
    if shared:
        groups.append(shared[0])
    per_frame = header.get("PerFrameFunctionalGroupsSequence")
    if per_frame and frame_index < len(per_frame):
        groups.append(per_frame[frame_index])
    for group in groups:
        for keyword in ("PixelValueTransformationSequence", "FrameVOILUTSequence"):
            items = group.get(keyword)
            if items:
                for element in items[0]:
                    if element.tag.group == 0x0028:
                        view.add(element)
    return view


def _encoding(header: Any) -> tuple[bool | None, bool | None]:
    try:
        implicit, little = header.original_encoding
    except AttributeError:
        implicit, little = None, None
    return implicit, little


# -- frame -> 8-bit display array -------------------------------------------------------------


def display_array(header: Any, frame: Any, *, window: Window | None = None,
                  frame_index: int = 0) -> np.ndarray:
    """Frame ``frame_index`` as 8-bit display values: ``(rows, columns)`` for grey-scale,
    ``(rows, columns, 3)`` RGB for colour."""
    import numpy as np

    frame = np.asarray(frame)
    photometric = str(header.get("PhotometricInterpretation") or "MONOCHROME2").strip().upper()
    view = frame_view(header, frame_index)
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        if frame.ndim != 2:
            raise NotRenderable(f"a {photometric} frame should have one sample per pixel, "
                                f"this one is shaped {frame.shape}")
        grey = voi(modality(frame, view), view, window)
        return (255 - grey) if photometric == "MONOCHROME1" else grey
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        rgb = apply_color_lut(frame, view)
        return _to_8_bits(rgb, 16 if rgb.dtype.itemsize > 1 else 8)
    if photometric in _COLOUR:
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise NotRenderable(f"a {photometric} frame should have three samples per pixel, "
                                f"this one is shaped {frame.shape}")
        bits = int(header.get("BitsStored") or header.get("BitsAllocated") or 8)
        return _to_8_bits(to_rgb(frame, photometric, bits), bits)
    raise NotRenderable(f"photometric interpretation {photometric!r} cannot be rendered")


def modality(frame: np.ndarray, view: Any) -> np.ndarray:
    """Stored values -> modality values (float64, or the Modality LUT's integers)."""
    import numpy as np

    if view.get("ModalityLUTSequence"):
        from pydicom.pixels import apply_modality_lut

        return np.asarray(apply_modality_lut(frame, view))
    slope = _number(view.get("RescaleSlope"), 1.0)
    intercept = _number(view.get("RescaleIntercept"), 0.0)
    values = frame.astype(np.float64)
    if slope != 1.0:
        values *= slope
    if intercept != 0.0:
        values += intercept
    return values


def voi(values: np.ndarray, view: Any, window: Window | None = None) -> np.ndarray:
    """Modality values -> 0..255 (uint8), by ``window``, else the dataset's VOI, else min-max."""
    import numpy as np

    if window is not None:
        return apply_window(values, window)
    if view.get("VOILUTSequence"):
        from pydicom.pixels import apply_voi

        item = view.VOILUTSequence[0]
        entries, first, depth = (int(value) for value in item.LUTDescriptor)
        entries = entries or 1 << 16
        # Inputs beyond the table take its first or last entry (PS3.3 C.11.2.1.1); clipping them
        # here also keeps pydicom's index arithmetic within the table's integer type.
        indices = np.clip(np.rint(values), first, first + entries - 1).astype(np.int64)
        mapped = np.asarray(apply_voi(indices, view, 0), dtype=np.float64)
        return _round_to_uint8(mapped * 255.0 / ((1 << depth) - 1))
    dataset_window = first_window(view)
    if dataset_window is not None:
        return apply_window(values, dataset_window)
    return min_max(values)


def first_window(view: Any) -> Window | None:
    """The dataset's first Window Center / Width with its VOI LUT Function, if usable."""
    centers, widths = view.get("WindowCenter"), view.get("WindowWidth")
    if centers is None or widths is None or centers == "" or widths == "":
        return None
    center = _first(centers)
    width = _first(widths)
    if center is None or width is None:
        return None
    function = str(view.get("VOILUTFunction") or "LINEAR").strip().upper()
    if function not in FUNCTIONS:
        function = "LINEAR"
    window = Window(center, width, function)
    try:
        check_window(window, "the dataset's window")
    except RenderingError:
        return None  # an unusable stored window: fall back to the frame's range
    return window


def apply_window(values: np.ndarray, window: Window) -> np.ndarray:
    """The VOI LUT Functions of PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT) and
    C.11.2.1.3.1 (SIGMOID) onto an output range of 0..255, rounded half up."""
    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    c, w = window.center, window.width
    if window.function == "SIGMOID":
        with np.errstate(over="ignore"):
            y = 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    elif window.function == "LINEAR_EXACT":
        y = np.clip(((x - c) / w + 0.5) * 255.0, 0.0, 255.0)
        y = np.where(x <= c - w / 2, 0.0, np.where(x > c + w / 2, 255.0, y))
    else:
        low, high = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
        if w > 1:
            y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0
        else:  # a width of 1 is a threshold at the center (PS3.3 C.11.2.1.2.1 note 5)
            y = np.zeros_like(x)
        y = np.where(x <= low, 0.0, np.where(x > high, 255.0, y))
    return _round_to_uint8(y)


def min_max(values: np.ndarray) -> np.ndarray:
    """The frame's own range onto 0..255 (a constant frame renders black)."""
    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x.astype(np.uint8)
    low, high = float(x.min()), float(x.max())
    if high <= low:
        return np.zeros(x.shape, dtype=np.uint8)
    return _round_to_uint8((x - low) * (255.0 / (high - low)))


def to_rgb(frame: np.ndarray, photometric: str, bits: int = 8) -> np.ndarray:
    """Three-sample frames in RGB (float64 for the YBR conversions, in the stored range)."""
    import numpy as np

    if photometric in ("RGB", "YBR_RCT", "YBR_ICT"):  # RCT/ICT come out of JPEG 2000 as RGB
        return frame
    top = float((1 << bits) - 1)
    half = float(1 << (bits - 1))
    scale = top / 255.0
    y, cb, cr = (frame[..., i].astype(np.float64) for i in range(3))
    if photometric in ("YBR_FULL", "YBR_FULL_422"):  # PS3.3 C.7.6.3.1.2, full range
        r = y + 1.402 * (cr - half)
        g = y - 0.344136 * (cb - half) - 0.714136 * (cr - half)
        b = y + 1.772 * (cb - half)
    else:  # YBR_PARTIAL_*: ITU-R BT.601 studio range (Y 16..235, Cb/Cr 16..240 at 8 bits)
        y = (y - 16.0 * scale) * (255.0 / 219.0)
        cb, cr = (cb - half) * (255.0 / 224.0), (cr - half) * (255.0 / 224.0)
        r = y + 1.402 * cr
        g = y - 0.344136 * cb - 0.714136 * cr
        b = y + 1.772 * cb
    return np.clip(np.stack([r, g, b], axis=-1), 0.0, top)


def _to_8_bits(samples: np.ndarray, bits: int) -> np.ndarray:
    import numpy as np

    if bits <= 8 and samples.dtype == np.uint8:
        return samples
    top = float((1 << bits) - 1)
    return _round_to_uint8(np.asarray(samples, dtype=np.float64) * (255.0 / top))


def _round_to_uint8(values: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.clip(np.floor(np.asarray(values, dtype=np.float64) + 0.5), 0, 255).astype(np.uint8)


def _first(value: Any) -> float | None:
    try:
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            value = value[0] if len(value) else None
        number = float(value)
    except (TypeError, ValueError, IndexError):
        return None
    return number if math.isfinite(number) else None


def _number(value: Any, default: float) -> float:
    number = _first(value) if value not in (None, "") else None
    return default if number is None else number


# -- display array -> image bytes -------------------------------------------------------------


def fit(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest size with the aspect ratio of ``width x height`` inside the box."""
    scale = min(box_width / width, box_height / height)
    return max(1, min(box_width, round(width * scale))), max(1, min(box_height, round(height * scale)))


def to_image(array: np.ndarray, *, viewport: Viewport | None = None, thumbnail: bool = False) -> Any:
    """A Pillow image of the display array, cut and scaled by ``viewport`` (or to thumbnail size)."""
    from PIL import Image

    image = Image.fromarray(array, "L" if array.ndim == 2 else "RGB")
    if viewport is not None and viewport.source is not None:
        image = _cut(image, viewport.source)
    if viewport is not None:
        box = (viewport.width, viewport.height)
    elif thumbnail:
        box = (THUMBNAIL_SIZE, THUMBNAIL_SIZE)
    else:
        return image
    size = fit(image.width, image.height, *box)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS if size[0] < image.width
                             else Image.Resampling.BILINEAR)
    return image


def _cut(image: Any, source: tuple[int, int, int, int]) -> Any:
    from PIL import Image

    sx, sy, sw, sh = source
    if sx >= image.width or sy >= image.height:
        raise RenderingError(f"viewport source region starts at ({sx}, {sy}), outside the "
                             f"{image.width} x {image.height} frame")
    # sw/sh of 0 (left empty) mean "to the edge"; negative ones run backwards and flip.
    x0, x1 = (sx, image.width if sw == 0 else min(image.width, sx + sw)) if sw >= 0 else (max(0, sx + sw), sx)
    y0, y1 = (sy, image.height if sh == 0 else min(image.height, sy + sh)) if sh >= 0 else (max(0, sy + sh), sy)
    if x1 <= x0 or y1 <= y0:
        raise RenderingError("the viewport source region is empty")
    image = image.crop((x0, y0, x1, y1))
    if sw < 0:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if sh < 0:
        image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return image


def encode(image: Any, media_type: str, quality: int | None = None) -> bytes:
    buffer = io.BytesIO()
    if media_type == JPEG:
        image.save(buffer, "JPEG", quality=quality or DEFAULT_QUALITY)
    elif media_type == PNG:
        image.save(buffer, "PNG")
    else:
        raise RenderingError(f"cannot render {media_type!r}; offered: {', '.join(MEDIA_TYPES)}")
    return buffer.getvalue()


def render(header: Any, frame: Any, options: RenderOptions, *, frame_index: int = 0) -> RenderedImage:
    """The whole pipeline: frame -> display values -> viewport -> JPEG/PNG bytes."""
    array = display_array(header, frame, window=options.window, frame_index=frame_index)
    image = to_image(array, viewport=options.viewport, thumbnail=options.thumbnail)
    data = encode(image, options.media_type, options.quality)
    return RenderedImage(data=data, media_type=options.media_type, width=image.width, height=image.height)
