"""The rendering functions of the DICOMweb server, against values computed by hand.

No server here: a header Dataset and a decoded frame go in, display values and image bytes come
out (gantry_dicomweb_server.rendering). The HTTP resources, and a real browser
loading them, are tested in test_dicomweb_server_rendered_http.py.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from gantry_dicomweb_server import rendering
from gantry_dicomweb_server.rendering import (
    RenderingError,
    RenderOptions,
    Viewport,
    Window,
    choose_media_type,
    display_array,
    parse_quality,
    parse_viewport,
    parse_window,
    render,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def header(photometric: str = "MONOCHROME2", *, bits: int = 16, signed: bool = False, samples: int = 1,
           **attributes: object) -> Dataset:
    ds = Dataset()
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = samples
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = int(signed)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def ct_header(**attributes: object) -> Dataset:
    """A 12-bit CT header: HU = stored - 1024, the abdomen window 40/400 stored."""
    values = {"RescaleSlope": 1, "RescaleIntercept": -1024, "WindowCenter": 40, "WindowWidth": 400}
    values.update(attributes)
    return header(bits=12, **values)


def hu_frame(*hu: int) -> np.ndarray:
    """A 1-row frame of stored values for the given Hounsfield units (intercept -1024)."""
    return (np.array([hu], dtype=np.int64) + 1024).astype(np.uint16)


# -- grey-scale: modality LUT, then VOI, then presentation --------------------------------------


def test_ct_window_from_the_dataset_gives_the_hand_computed_grey_levels():
    # LINEAR, c=40, w=400: below c-0.5-(w-1)/2 = -160 black, above c-0.5+(w-1)/2 = 239 white,
    # else ((x - 39.5)/399 + 0.5) * 255: HU 0 -> 102.26, HU 40 -> 127.82, HU 238 -> 254.36.
    out = display_array(ct_header(), hu_frame(-1024, -160, -159, 0, 40, 238, 239, 240, 3071))
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 0, 1, 102, 128, 254, 255, 255, 255]]


def test_a_synthetic_16_bit_ct_ramp_renders_the_expected_pixels():
    # A 64 x 256 ramp over 4096 stored values: column j holds stored 16 * j, row i adds i.
    rows, columns = 64, 256
    frame = (np.arange(columns, dtype=np.uint16)[None, :] * 16 + np.arange(rows, dtype=np.uint16)[:, None])
    out = display_array(ct_header(BitsStored=16), frame)
    # pixel (0, 64): stored 1024 = HU 0 -> 102; (16, 65): stored 1056 = HU 32 -> ((32-39.5)/399+.5)*255 = 122.7
    assert out[0, 64] == 102 and out[16, 65] == 123
    # column 54, row 0: HU -160 (black); row 1: HU -159 -> 0.64 -> 1
    assert out[0, 54] == 0 and out[1, 54] == 1
    assert out[:, :51].max() == 0             # column 50 reaches at most HU 800 + 63 - 1024 = -161
    assert (out[:, 79:] == 255).all()         # column 79 starts at HU 1264 - 1024 = 240 > 239
    assert out[:, 51:79].min() == 0 and 0 < out[63, 51] < 255


def test_the_window_parameter_overrides_the_dataset_window():
    frame = hu_frame(-51, -50, -49, 0, 25, 50, 51)
    # LINEAR_EXACT, c=0, w=100: x <= -50 black, x > 50 white, else ((x - c)/w + 0.5) * 255
    exact = display_array(ct_header(), frame, window=Window(0, 100, "LINEAR_EXACT"))
    assert exact.tolist() == [[0, 0, 3, 128, 191, 255, 255]]   # -49 -> 2.55, 0 -> 127.5, 25 -> 191.25
    # SIGMOID: 255 / (1 + exp(-4 (x - c) / w)): -50 -> 30.40, -49 -> 31.48, 0 -> 127.5, 25 -> 186.42, 50 -> 224.60
    sigmoid = display_array(ct_header(), frame, window=Window(0, 100, "SIGMOID"))
    assert sigmoid.tolist()[0][1:6] == [30, 31, 128, 186, 225]


def test_a_linear_window_of_width_1_is_a_threshold_at_its_center():
    out = display_array(header(bits=16), np.array([[99, 100, 101]], dtype=np.uint16),
                        window=Window(100, 1, "LINEAR"))
    assert out.tolist() == [[0, 255, 255]]


def test_the_voi_lut_function_attribute_is_honoured():
    ds = ct_header(WindowCenter=0, WindowWidth=100, VOILUTFunction="SIGMOID")
    assert display_array(ds, hu_frame(0, 25)).tolist() == [[128, 186]]


def test_without_a_window_the_frame_range_is_used():
    frame = np.array([[0, 250, 500, 1000]], dtype=np.uint16)
    assert display_array(header(), frame).tolist() == [[0, 64, 128, 255]]   # 63.75, 127.5
    assert display_array(header(), np.full((2, 2), 7, np.uint16)).tolist() == [[0, 0], [0, 0]]


def test_monochrome1_is_inverted():
    frame = np.array([[0, 250, 500, 1000]], dtype=np.uint16)
    assert display_array(header("MONOCHROME1"), frame).tolist() == [[255, 191, 127, 0]]
    assert display_array(ct_header(PhotometricInterpretation="MONOCHROME1"), hu_frame(0)).tolist() == [[153]]


def test_rescale_slope_and_intercept_come_before_the_window():
    # slope 2, intercept -100: stored 50 -> 0, stored 75 -> 50, stored 100 -> 100
    ds = header(RescaleSlope=2, RescaleIntercept=-100, WindowCenter=50, WindowWidth=101)
    out = display_array(ds, np.array([[0, 50, 75, 100, 101]], dtype=np.uint16))
    # LINEAR c=50 w=101: low = 49.5 - 50 = -0.5, high = 99.5; y = ((x - 49.5)/100 + .5) * 255
    # stored 0 -> -100 black; 50 -> 0 -> 1.275; 75 -> 50 -> 128.775; 100 -> 100 and 101 -> 102 white
    assert out.tolist() == [[0, 1, 129, 255, 255]]


def test_signed_stored_values():
    ds = header(bits=16, signed=True, WindowCenter=0, WindowWidth=2)
    out = display_array(ds, np.array([[-5, -1, 0, 1]], dtype=np.int16))
    # c=0 w=2: low = -0.5 - 0.5 = -1, high = 0: -1 -> black, 0 -> ((0+.5)/1+.5)*255 = 255
    assert out.tolist() == [[0, 0, 255, 255]]


def test_the_voi_lut_sequence_is_applied_through_pydicom():
    item = Dataset()
    item.LUTDescriptor = [256, 0, 8]
    item.LUTData = [255 - i for i in range(256)]
    ds = header(bits=16)
    ds.VOILUTSequence = Sequence([item])
    ds.WindowCenter, ds.WindowWidth = 40, 400   # the LUT comes first
    out = display_array(ds, np.array([[0, 10, 255, 300]], dtype=np.uint16))
    assert out.tolist() == [[255, 245, 0, 0]]   # beyond the last entry: the last entry


def test_functional_groups_give_each_frame_its_rescale_and_window():
    ds = header(bits=16)
    shared = Dataset()
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 1, -1024, "HU"
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for center, width in ((40, 400), (0, 2)):
        group, voi = Dataset(), Dataset()
        voi.WindowCenter, voi.WindowWidth = center, width
        group.FrameVOILUTSequence = Sequence([voi])
        frames.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    frame = hu_frame(0, 40)
    assert display_array(ds, frame, frame_index=0).tolist() == [[102, 128]]
    assert display_array(ds, frame, frame_index=1).tolist() == [[255, 255]]


# -- colour --------------------------------------------------------------------------------------


def test_rgb_is_kept():
    frame = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    out = display_array(header("RGB", bits=8, samples=3), frame, window=Window(0, 10))
    assert out.tolist() == frame.tolist()   # a window does not apply to colour


def test_ybr_full_is_converted_to_rgb():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]], dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b           # PS3.3 C.7.6.3.1.2
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    ybr = np.clip(np.rint(np.stack([y, cb, cr], -1)), 0, 255).astype(np.uint8)
    out = display_array(header("YBR_FULL", bits=8, samples=3), ybr)
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 2


def test_wide_colour_samples_are_scaled_to_8_bits():
    frame = np.array([[[65535, 0, 32896]]], dtype=np.uint16)
    assert display_array(header("RGB", bits=16, samples=3), frame).tolist() == [[[255, 0, 128]]]


def test_palette_colour_goes_through_its_lookup_tables():
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = header("PALETTE COLOR", bits=8)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    for colour, entries in (("Red", [0, 65535, 0, 0]), ("Green", [0, 0, 65535, 32896]),
                            ("Blue", [0, 0, 0, 65535])):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(entries, "<u2").tobytes())
    out = display_array(ds, np.array([[0, 1, 2, 3]], dtype=np.uint8))
    assert out.tolist() == [[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 128, 255]]]


def test_an_unknown_photometric_interpretation_is_not_renderable():
    with pytest.raises(rendering.NotRenderable, match="HSV"):
        display_array(header("HSV", samples=3), np.zeros((2, 2, 3), np.uint8))


# -- viewport, thumbnail, encodings ----------------------------------------------------------------


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_png_is_lossless_and_jpeg_is_jpeg():
    frame = hu_frame(-1024, 0, 40, 3071).repeat(8, axis=0).repeat(8, axis=1)   # 8 x 32
    png = render(ct_header(), frame, RenderOptions(media_type="image/png"))
    assert png.data.startswith(PNG_MAGIC) and (png.width, png.height) == (32, 8)
    assert np.asarray(_decoded(png.data)).tolist() == display_array(ct_header(), frame).tolist()
    jpeg = render(ct_header(), frame, RenderOptions())
    assert jpeg.media_type == "image/jpeg" and jpeg.data.startswith(JPEG_MAGIC)
    decoded = np.asarray(_decoded(jpeg.data)).astype(int)
    assert decoded.shape == (8, 32)
    assert abs(decoded[4, 12] - 102) <= 2 and abs(decoded[4, 20] - 128) <= 2   # 8x8 flat blocks
    assert _decoded(jpeg.data).mode == "L"


def test_colour_renders_as_rgb_images():
    frame = np.zeros((16, 16, 3), np.uint8)
    frame[..., 0] = 200
    image = _decoded(render(header("RGB", bits=8, samples=3), frame, RenderOptions(media_type="image/png")).data)
    assert image.mode == "RGB" and image.getpixel((5, 5)) == (200, 0, 0)


def test_quality_changes_the_jpeg():
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 4096, (64, 64)).astype(np.uint16)
    small = render(header(bits=12), frame, RenderOptions(quality=5))
    large = render(header(bits=12), frame, RenderOptions(quality=100))
    assert len(small.data) < len(large.data) / 2


def test_the_viewport_keeps_the_aspect_ratio():
    frame = np.zeros((32, 64), np.uint16)
    assert render(header(), frame, RenderOptions(viewport=Viewport(100, 100))).width == 100
    assert (render(header(), frame, RenderOptions(viewport=Viewport(100, 100))).height) == 50
    image = render(header(), frame, RenderOptions(viewport=Viewport(10, 40)))
    assert (image.width, image.height) == (10, 5)
    assert rendering.fit(512, 512, 300, 200) == (200, 200)


def test_a_thumbnail_fits_128_pixels_unless_a_viewport_says_otherwise():
    frame = np.zeros((300, 600), np.uint16)
    thumb = render(header(), frame, RenderOptions(thumbnail=True))
    assert (thumb.width, thumb.height) == (128, 64)
    small = render(header(), frame, RenderOptions(thumbnail=True, viewport=Viewport(32, 32)))
    assert (small.width, small.height) == (32, 16)
    assert (render(header(), frame, RenderOptions()).width) == 600   # rendered: natural size


def test_a_viewport_source_region_cuts_and_negative_sizes_flip():
    frame = np.zeros((16, 16), np.uint16)
    frame[:8, :8] = 1000   # top-left quadrant white, the rest black (min-max)
    cut = _decoded(render(header(), frame, RenderOptions(media_type="image/png",
                                                         viewport=parse_viewport("8,8,0,0,8,8"))).data)
    assert cut.size == (8, 8) and np.asarray(cut).min() == 255
    # from x=8 backwards 8 columns, rows 0..3: the white quadrant mirrored
    flipped = np.asarray(_decoded(render(header(), frame, RenderOptions(
        media_type="image/png", viewport=parse_viewport("16,4,12,0,-8,4"))).data))
    assert flipped.shape == (4, 8)
    # source columns 4..11 reversed: output column 0 is source 11 (black), column 7 source 4 (white)
    assert flipped[0, 0] == 0 and flipped[0, 7] == 255
    with pytest.raises(RenderingError, match="outside"):
        render(header(), frame, RenderOptions(viewport=parse_viewport("8,8,20,0,4,4")))


# -- parameters ------------------------------------------------------------------------------------


def test_window_parameter_parsing():
    assert parse_window("40,400,linear") == Window(40.0, 400.0, "LINEAR")
    assert parse_window("-600, 1500, LINEAR_EXACT") == Window(-600.0, 1500.0, "LINEAR_EXACT")
    assert parse_window("0,0.5,sigmoid") == Window(0.0, 0.5, "SIGMOID")
    assert parse_window("40,400") == Window(40.0, 400.0, "LINEAR")
    for bad, message in [("40", "expected"), ("a,400,linear", "numbers"), ("40,400,cubic", "cubic"),
                         ("40,0.5,linear", "at least 1"), ("40,0,sigmoid", "greater than 0"),
                         ("40,nan,linear", "finite")]:
        with pytest.raises(RenderingError, match=message):
            parse_window(bad)


def test_viewport_and_quality_parsing():
    assert parse_viewport("512,256") == Viewport(512, 256)
    assert parse_viewport("100,100,10,20,-30,40") == Viewport(100, 100, (10, 20, -30, 40))
    assert parse_viewport("100,100,,,,") == Viewport(100, 100, (0, 0, 0, 0))
    for bad in ("512", "0,10", "10,x", "99999,10", "10,10,-1,0,4,4", "1,2,3"):
        with pytest.raises(RenderingError):
            parse_viewport(bad)
    assert parse_quality("75") == 75
    for bad in ("0", "101", "high", ""):
        with pytest.raises(RenderingError):
            parse_quality(bad)


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "image/jpeg"),
    ("", "image/jpeg"),
    ("image/png", "image/png"),
    ("image/png;q=0.5, image/jpeg", "image/jpeg"),
    ("image/jpeg;q=0.2, image/png;q=0.9", "image/png"),
    ("text/html, image/*;q=0.8", "image/jpeg"),
    ("*/*", "image/jpeg"),
    ("image/gif, image/png", "image/png"),
    ("application/dicom", None),
    ("image/png;q=0", None),
    ("image/jp2", None),
])
def test_media_type_negotiation(accept, chosen):
    assert choose_media_type(accept) == chosen
