"""Rendered and thumbnail resources over HTTP through the server's application (starlette's
TestClient), and loaded by headless Chromium from the application served by uvicorn.

The indexed site served: study 1: series 1 holds a 100 x 200 CT of three vertical bands, HU
-1000 | 0 | 300, stored as 12-bit values with intercept -1024 and the window 40/400, so rendered
black (0), 102 and white (255), natively (instance 1) and as JPEG 2000 lossless (2), RLE (3) and
JPEG-LS (4) copies;
series 2 a 3-frame 32 x 32 instance whose frame k holds 1000 k everywhere; series 3 an RGB
instance (red | green | blue bands) and its JPEG baseline copy (YBR_FULL_422).
Study 2: series 1 an SR document (no pixels), series 2 three uniform CT instances of
HU -1000, 0 and 300 (instances 1, 2, 3).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from PIL import Image

from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.index import IndexedSite, indexed_site

from gantry_dicomweb_server.testing import run_chromium

BANDS_HU = (-1000, 0, 300)
BANDS_GREY = (0, 102, 255)
#: Column ranges of the three bands of the 200-column CT.
BAND_COLUMNS = ((0, 64), (64, 128), (128, 200))
ROWS, COLUMNS = 100, 200
RGB_BANDS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


@attrs.frozen
class RenderedSite:
    site: IndexedSite
    uids: dict[str, tuple[str, str, str]]
    """Name -> (study, series, instance) UIDs."""

    def path(self, name: str, tail: str = "rendered") -> str:
        study, series, instance = self.uids[name]
        return f"/dicom-web/studies/{study}/series/{series}/instances/{instance}/{tail}"


def _uids(ds: Any) -> tuple[str, str, str]:
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)


def ct_bands(instance: int, *, study: int = 1, series: int = 1) -> Any:
    ds = make_dataset(modality="CT", rows=ROWS, columns=COLUMNS, bits_stored=12, study=study,
                      series=series, instance=instance)
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    frame = np.zeros((ROWS, COLUMNS), np.uint16)
    for (start, stop), hu in zip(BAND_COLUMNS, BANDS_HU):
        frame[:, start:stop] = hu + 1024
    ds.PixelData = frame.tobytes()
    return ds


def ct_uniform(instance: int, hu: int, *, study: int, series: int) -> Any:
    ds = make_dataset(modality="CT", rows=16, columns=16, bits_stored=12, study=study, series=series,
                      instance=instance)
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = np.full((16, 16), hu + 1024, np.uint16).tobytes()
    return ds


def multiframe(*, study: int, series: int) -> Any:
    ds = make_dataset(modality="CT", rows=32, columns=32, frames=3, study=study, series=series, instance=1)
    ds.PixelData = np.stack([np.full((32, 32), 1000 * k, np.uint16) for k in (1, 2, 3)]).tobytes()
    return ds


def rgb(*, study: int, series: int, instance: int) -> Any:
    ds = make_dataset(modality="OT", rows=48, columns=48, bits_allocated=8, photometric="RGB",
                      study=study, series=series, instance=instance)
    frame = np.zeros((48, 48, 3), np.uint8)
    for band, colour in enumerate(RGB_BANDS):
        frame[:, band * 16:(band + 1) * 16] = colour
    ds.PixelData = frame.tobytes()
    return ds


def sr(*, study: int, series: int) -> Any:
    from pydicom.uid import BasicTextSRStorage

    ds = make_dataset(modality="SR", study=study, series=series, instance=1)
    for keyword in ("Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated",
                    "BitsStored", "HighBit", "PixelRepresentation", "PixelData"):
        delattr(ds, keyword)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    return ds


def _transcoded(kernel: Any, ds: Any, work: Path, to: str) -> Any:
    import pydicom
    from gantry_transcode.transcode import transcode_file

    source = write_dataset(ds, work / f"{to}-source.dcm")
    result = transcode_file(kernel, source, work / f"{to}.dcm", to)
    assert result.ok, result.reason
    return pydicom.dcmread(result.destination)


def build_rendered_site(tmp_path: Path) -> RenderedSite:
    from gantry.testing.fixtures import kernel_with

    work = tmp_path / "work"
    work.mkdir(parents=True)
    kernel = kernel_with(discover=True)
    datasets = {
        "ct": ct_bands(1),
        "ct-j2k": _transcoded(kernel, ct_bands(2), work, "j2k-lossless"),
        "ct-rle": _transcoded(kernel, ct_bands(3), work, "rle"),
        "ct-jpegls": _transcoded(kernel, ct_bands(4), work, "jpeg-ls"),
        "multiframe": multiframe(study=1, series=2),
        "rgb": rgb(study=1, series=3, instance=1),
        "rgb-jpeg": _transcoded(kernel, rgb(study=1, series=3, instance=2), work, "jpeg-baseline"),
        "sr": sr(study=2, series=1),
        **{f"uniform-{n}": ct_uniform(n, hu, study=2, series=2) for n, hu in zip((1, 2, 3), BANDS_HU)},
    }
    site = indexed_site(tmp_path / "site", datasets.values())
    return RenderedSite(site=site, uids={name: _uids(ds) for name, ds in datasets.items()})


def make_app(site: IndexedSite, store: Path) -> Any:
    """The server's application (every route module, its middleware) over the site's index."""
    from gantry_dicomweb_server.app import build_app
    from gantry_dicomweb_server.context import ServerContext

    backend = site.kernel.open_storage(site.database)
    return build_app(ServerContext(kernel=site.kernel, backend=backend,
                                   store=site.kernel.open_instance_store(str(store))))


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered_site(tmp_path_factory: pytest.TempPathFactory) -> RenderedSite:
    return build_rendered_site(tmp_path_factory.mktemp("rendered"))


@pytest.fixture(scope="module")
def client(rendered_site: RenderedSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from starlette.testclient import TestClient

    app = make_app(rendered_site.site, tmp_path_factory.mktemp("store"))
    with TestClient(app) as test_client:
        yield test_client
    app.state.context.close()


def decoded(response: Any) -> Image.Image:
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def bands_of(image: Image.Image, width: int = COLUMNS) -> list[int]:
    """The grey level in the middle of each band (scaled to the image's width)."""
    array = np.asarray(image.convert("L")).astype(int)
    row = array.shape[0] // 2
    return [int(array[row, (start + stop) * array.shape[1] // (2 * width)]) for start, stop in BAND_COLUMNS]


def close(levels: list[int], expected: tuple[int, ...] | list[int], tolerance: int = 3) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(levels, expected, strict=True))


def error_message(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    return str(body["error"]["message"] if isinstance(body["error"], dict) else body["error"])


# -- instance and frame resources ---------------------------------------------------------------


def test_an_instance_renders_as_jpeg_by_default_with_the_dataset_window(client, rendered_site):
    response = client.get(rendered_site.path("ct"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8\xff")
    image = decoded(response)
    assert image.size == (COLUMNS, ROWS) and image.mode == "L"
    assert close(bands_of(image), BANDS_GREY)


def test_png_is_chosen_by_the_accept_header_or_the_accept_parameter(client, rendered_site):
    by_header = client.get(rendered_site.path("ct"), headers={"Accept": "image/png"})
    assert by_header.status_code == 200 and by_header.headers["content-type"] == "image/png"
    assert by_header.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert bands_of(decoded(by_header)) == list(BANDS_GREY)        # lossless: exact
    by_parameter = client.get(rendered_site.path("ct"), params={"accept": "image/png"},
                              headers={"Accept": "image/jpeg"})
    assert by_parameter.headers["content-type"] == "image/png"
    weighted = client.get(rendered_site.path("ct"), headers={"Accept": "image/jpeg;q=0.5, image/png"})
    assert weighted.headers["content-type"] == "image/png"


def test_an_unacceptable_media_type_is_406(client, rendered_site):
    response = client.get(rendered_site.path("ct"), headers={"Accept": "application/dicom"})
    assert response.status_code == 406
    assert "image/jpeg" in error_message(response)


def test_window_and_viewport_parameters(client, rendered_site):
    # window 0,100,linear-exact: HU -1000 -> 0, HU 0 -> 127.5 -> 128, HU 300 -> 255
    windowed = client.get(rendered_site.path("ct"), params={"window": "0,100,linear-exact"},
                          headers={"Accept": "image/png"})
    assert bands_of(decoded(windowed)) == [0, 128, 255]
    sized = client.get(rendered_site.path("ct"), params={"viewport": "100,100"},
                       headers={"Accept": "image/png"})
    assert decoded(sized).size == (100, 50)                          # aspect ratio kept
    quality = [len(client.get(rendered_site.path("ct"), params={"quality": q, "window": "0,600"}).content)
               for q in ("10", "100")]
    assert quality[0] < quality[1]


@pytest.mark.parametrize(("params", "mentions"), [
    ({"quality": "best"}, "quality"),
    ({"quality": "0"}, "quality"),
    ({"window": "40"}, "window"),
    ({"window": "40,400,cubic"}, "cubic"),
    ({"viewport": "0,10"}, "viewport"),
    ({"viewport": "10,10,500,0,5,5"}, "outside"),
])
def test_bad_parameters_are_400_with_a_json_error(client, rendered_site, params, mentions):
    response = client.get(rendered_site.path("ct"), params=params)
    assert response.status_code == 400
    assert mentions in error_message(response)


def test_unknown_objects_are_404_and_malformed_uids_400(client, rendered_site):
    study, series, instance = rendered_site.uids["ct"]
    base = f"/dicom-web/studies/{study}/series/{series}/instances"
    assert client.get(f"{base}/1.2.3.4.5/rendered").status_code == 404
    assert "1.2.3.4.5" in error_message(client.get(f"{base}/1.2.3.4.5/rendered"))
    assert client.get("/dicom-web/studies/1.2.3/rendered").status_code == 404
    assert client.get(f"/dicom-web/studies/{study}/series/1.2.3/thumbnail").status_code == 404
    assert client.get(f"{base}/1.2.*/rendered").status_code == 400
    other_study = rendered_site.uids["sr"][0]
    assert client.get(f"/dicom-web/studies/{other_study}/series/{series}/instances/{instance}/rendered"
                      ).status_code == 404                              # the hierarchy must match


def test_a_non_image_instance_is_refused_with_a_clear_message(client, rendered_site):
    response = client.get(rendered_site.path("sr"))
    assert response.status_code == 406
    assert "not an image" in error_message(response)


def test_frames_of_a_multiframe_instance(client, rendered_site):
    # frame k holds 1000 k; window 2000,2000,linear-exact: 1000 -> 0, 2000 -> 127.5, 3000 -> 255
    levels = []
    for frame in (1, 2, 3):
        response = client.get(rendered_site.path("multiframe", f"frames/{frame}/rendered"),
                              params={"window": "2000,2000,linear-exact"}, headers={"Accept": "image/png"})
        assert response.status_code == 200, response.text
        levels.append(int(np.asarray(decoded(response))[16, 16]))
    assert levels == [0, 128, 255]
    whole = client.get(rendered_site.path("multiframe"), params={"window": "2000,2000,linear-exact"},
                       headers={"Accept": "image/png"})
    assert int(np.asarray(decoded(whole))[16, 16]) == 0                 # the instance: its first frame
    assert client.get(rendered_site.path("multiframe", "frames/4/rendered")).status_code == 404
    assert client.get(rendered_site.path("multiframe", "frames/0/rendered")).status_code == 400
    assert client.get(rendered_site.path("multiframe", "frames/x/rendered")).status_code == 400
    assert client.get(rendered_site.path("multiframe", "frames/1,2/rendered")).status_code == 400
    assert client.get(rendered_site.path("ct", "frames/1/rendered")).status_code == 200


@pytest.mark.parametrize("name", ["ct-j2k", "ct-rle", "ct-jpegls"])
def test_compressed_instances_render_like_the_native_one(client, rendered_site, name):
    native = client.get(rendered_site.path("ct"), headers={"Accept": "image/png"})
    compressed = client.get(rendered_site.path(name), headers={"Accept": "image/png"})
    assert compressed.status_code == 200, compressed.text
    assert np.array_equal(np.asarray(decoded(compressed)), np.asarray(decoded(native)))


def test_colour_is_kept_and_ybr_becomes_rgb(client, rendered_site):
    for name, tolerance in (("rgb", 0), ("rgb-jpeg", 12)):
        response = client.get(rendered_site.path(name), headers={"Accept": "image/png"})
        assert response.status_code == 200, response.text
        image = decoded(response)
        assert image.mode == "RGB" and image.size == (48, 48)
        for band, colour in enumerate(RGB_BANDS):
            pixel = image.getpixel((band * 16 + 8, 24))
            assert all(abs(a - b) <= tolerance for a, b in zip(pixel, colour)), (name, pixel, colour)


# -- series and study resources, thumbnails -----------------------------------------------------


def test_series_and_study_render_their_representative_image(client, rendered_site):
    study, series, _ = rendered_site.uids["uniform-1"]
    png = {"Accept": "image/png"}
    # the series' middle instance (instance 2: HU 0 -> 102)
    series_image = decoded(client.get(f"/dicom-web/studies/{study}/series/{series}/rendered", headers=png))
    assert set(np.asarray(series_image).ravel().tolist()) == {102}
    # the study: its SR series (number 1) has no image, so series 2 and the same instance
    study_image = decoded(client.get(f"/dicom-web/studies/{study}/rendered", headers=png))
    assert set(np.asarray(study_image).ravel().tolist()) == {102}
    sr_series = rendered_site.uids["sr"][1]
    response = client.get(f"/dicom-web/studies/{study}/series/{sr_series}/rendered")
    assert response.status_code == 406 and "image" in error_message(response)


def test_thumbnails_are_small(client, rendered_site):
    study, series, _ = rendered_site.uids["ct"]
    for path in (rendered_site.path("ct", "thumbnail"), rendered_site.path("ct", "frames/1/thumbnail"),
                 f"/dicom-web/studies/{study}/series/{series}/thumbnail", f"/dicom-web/studies/{study}/thumbnail"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == "image/jpeg"
        image = decoded(response)
        assert image.size == (128, 64), path
        assert close(bands_of(image), BANDS_GREY, tolerance=4), path
    small = decoded(client.get(rendered_site.path("ct", "thumbnail"), params={"viewport": "50,50"},
                               headers={"Accept": "image/png"}))
    assert small.size == (50, 25)


def test_cache_headers_and_conditional_requests(client, rendered_site):
    first = client.get(rendered_site.path("ct"))
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, max-age=3600"
    assert "accept" in first.headers["vary"].lower()
    again = client.get(rendered_site.path("ct"), headers={"If-None-Match": tag})
    assert again.status_code == 304 and not again.content
    assert client.get(rendered_site.path("ct"), headers={"Accept": "image/png"}).headers["etag"] != tag
    assert client.get(rendered_site.path("ct"), params={"window": "0,100"}).headers["etag"] != tag
    assert client.get(rendered_site.path("ct"), headers={"If-None-Match": '"other"'}).status_code == 200


# -- a store that is not a local folder ------------------------------------------------------------


def test_frames_are_read_from_a_store_that_hands_out_streams(rendered_site):
    from types import SimpleNamespace

    from gantry_dicomweb_server.rendered import read_frame

    rows = {row["SOPInstanceUID"]: row for row in rendered_site.site.query("instance")}

    class StreamStore:  # locations that are not paths: the bytes come through open()
        def open(self, location: str) -> Any:
            return open(location.removeprefix("remote:"), "rb")

    local = SimpleNamespace(kernel=rendered_site.site.kernel, store=None)
    remote = SimpleNamespace(kernel=rendered_site.site.kernel, store=StreamStore())
    for name, frame in (("ct", 1), ("ct-j2k", 1), ("multiframe", 3), ("rgb-jpeg", 1)):
        row = rows[rendered_site.uids[name][2]]
        header, expected = read_frame(local, row, frame)
        remote_header, array = read_frame(remote, {**row, "location": "remote:" + row["location"]}, frame)
        assert np.array_equal(array, expected), name
        assert "PixelData" not in remote_header and remote_header.Rows == header.Rows


# -- a real browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(rendered_site: RenderedSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The application on a free port of 127.0.0.1, served by uvicorn in a thread."""
    import threading

    import uvicorn

    from gantry.testing.network import free_port, wait_until

    port = free_port()
    app = make_app(rendered_site.site, tmp_path_factory.mktemp("live-store"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="rendered-uvicorn", daemon=True)
    thread.start()
    if not wait_until(lambda: server.started, seconds=20):
        server.should_exit = True
        pytest.fail("uvicorn did not start serving the DICOMweb application")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.context.close()


@pytest.mark.slow
def test_chromium_loads_a_rendered_frame_from_the_server(live_server, rendered_site, tmp_path):
    import re

    url = live_server + rendered_site.path("ct", "frames/1/rendered")
    thumbnail = live_server + rendered_site.path("ct-j2k", "thumbnail")
    page = tmp_path / "page.html"
    page.write_text(f"""<!doctype html>
<html><body>
<img id="frame" src="{url}?viewport=100,100">
<img id="thumb" src="{thumbnail}">
<script>
  function report(image) {{
    const line = document.createElement("p");
    line.className = "result";
    line.textContent = image.id + "=" + (image.naturalWidth ? image.naturalWidth + "x" + image.naturalHeight : "failed");
    document.body.appendChild(line);
  }}
  for (const image of document.images) {{
    if (image.complete) report(image);
    else {{ image.onload = () => report(image); image.onerror = () => report(image); }}
  }}
</script>
</body></html>""")
    dom = run_chromium(tmp_path, "--virtual-time-budget=15000", "--dump-dom", page.as_uri())
    results = dict(re.findall(r'<p class="result">(\w+)=([\w]+)</p>', dom))
    assert results == {"frame": "100x50", "thumb": "128x64"}, dom[-2000:]


@pytest.mark.slow
def test_a_chromium_screenshot_of_a_rendered_frame_shows_the_grey_levels(live_server, rendered_site, tmp_path):
    url = live_server + rendered_site.path("ct", "frames/1/rendered") + "?accept=image/png"
    shot = tmp_path / "shot.png"
    run_chromium(tmp_path, "--window-size=400,300", "--virtual-time-budget=10000", f"--screenshot={shot}", url)
    image = Image.open(shot).convert("RGB")
    assert image.size == (400, 300)
    # Chromium shows an image smaller than the window at its natural size, centred: the
    # 200 x 100 frame spans x 100..299, y 100..199; its bands are HU -1000 | 0 | 300.
    array = np.asarray(image).astype(int)
    for (start, stop), grey in zip(BAND_COLUMNS, BANDS_GREY):
        region = array[130:170, 100 + start + 8:100 + stop - 8]
        assert np.abs(region - grey).max() <= 3, (start, stop, region.mean(axis=(0, 1)))
