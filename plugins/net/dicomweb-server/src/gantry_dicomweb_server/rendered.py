"""WADO-RS rendered and thumbnail resources (PS3.18 8.3.5, 10.4; issue 7).

Routes (mounted under ``/dicom-web``), each answering GET (and HEAD):

=====================================================================  ================================
``/studies/{s}/rendered``, ``/studies/{s}/thumbnail``                   the study's representative image
``/studies/{s}/series/{se}/rendered``, ``.../thumbnail``                the series' representative image
``/studies/{s}/series/{se}/instances/{i}/rendered``, ``.../thumbnail``  the instance (its first frame)
``.../instances/{i}/frames/{f}/rendered``, ``.../thumbnail``            frame ``f`` (1-based, one frame)
=====================================================================  ================================

**Representative image** (PS3.18 leaves the choice to the origin server): for a series, the middle
image instance in Instance Number order (ties by SOP Instance UID); for a study, that of its first
series holding images in Series Number order. Instances without Rows in the index (SR, KOS,
presentation states ...) are passed over. A multi-frame instance renders its first frame.

**Media types**: ``image/jpeg`` (the default, also for ``image/*`` and ``*/*``) and ``image/png``,
chosen from the ``accept`` query parameter or else the ``Accept`` header (quality values honoured);
anything else is 406. **Query parameters**: ``quality`` (1..100, JPEG), ``viewport=vw,vh`` or
``vw,vh,sx,sy,sw,sh`` (aspect ratio kept, the image fits inside), ``window=center,width,function``
(linear, linear-exact, sigmoid; overrides the dataset's VOI). Unknown parameters (``annotation``,
``iccprofile``, ``charset``) are ignored, as PS3.18 asks. Thumbnails take ``viewport`` too (not
``window``) and otherwise fit 128 x 128. The imaging is :mod:`gantry_dicomweb_server.rendering`.

**Pixels** come from the instance's file through the kernel: the header through its readers,
frames as stored or decoded by the ranked codec plugins (:mod:`gantry.frames`), one frame at a
time, so compressed transfer syntaxes render as long as a codec plugin decodes them. A location
that is not a local file is read whole through ``context.store.open``.

**Errors** are the server's JSON error body (``{"error": {"status": ..., "message": ...}}``): 400
for a malformed parameter, UID or frame number; 404 for an unknown study, series, instance or
frame; 406 for an unacceptable media type or an instance that is not an image; 500 when the stored
pixel data cannot be read or decoded.

**Caching**: an ETag over the instance's stored file (location, size, modification time, digest)
and the rendering parameters, ``If-None-Match`` answered with 304; ``Cache-Control: private,
max-age=3600`` (patient images do not belong in shared caches) and ``Vary: Accept``.

Browsers load these in ``<img>`` across origins without CORS; a page that draws them into a
canvas and reads the pixels back (``crossorigin``) needs the server's ``cors_origins`` setting.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gantry_dicomweb_server.rendering import (
    NotRenderable,
    RenderingError,
    RenderOptions,
    choose_media_type,
    parse_quality,
    parse_viewport,
    parse_window,
    render,
)
from gantry_dicomweb_server.responses import HttpProblem, error_response

CACHE_CONTROL = "private, max-age=3600"

INSTANCE = "/studies/{study}/series/{series}/instances/{instance}"


def rendered_routes(context: Any) -> list[Route]:
    resources = RenderedResources(context)
    routes = []
    for kind in ("rendered", "thumbnail"):
        thumbnail = kind == "thumbnail"
        routes += [
            Route(f"/studies/{{study}}/{kind}", resources.endpoint("study", thumbnail), methods=["GET"]),
            Route(f"/studies/{{study}}/series/{{series}}/{kind}", resources.endpoint("series", thumbnail),
                  methods=["GET"]),
            Route(f"{INSTANCE}/{kind}", resources.endpoint("instance", thumbnail), methods=["GET"]),
            Route(f"{INSTANCE}/frames/{{frames}}/{kind}", resources.endpoint("frame", thumbnail),
                  methods=["GET"]),
        ]
    return routes


class RenderedResources:
    def __init__(self, context: Any) -> None:
        self.context = context

    def endpoint(self, level: str, thumbnail: bool) -> Any:
        async def handle(request: Request) -> Response:
            try:
                return await self.answer(request, level, thumbnail)
            except HttpProblem as err:
                return error_response(err.status, err.message, err.headers or None)

        handle.__name__ = f"{level}_{'thumbnail' if thumbnail else 'rendered'}"
        return handle

    async def answer(self, request: Request, level: str, thumbnail: bool) -> Response:
        options = request_options(request, thumbnail)
        params = request.path_params
        frame = parse_frame(params["frames"]) if level == "frame" else 1
        try:
            rows = await self.context.run(self.context.instance_rows, params["study"],
                                          params.get("series"), params.get("instance"))
        except ValueError as err:  # the context's InvalidUid
            raise HttpProblem(400, f"not a UID: {err}") from err
        row = representative(rows, level, params)
        tag = etag(row, frame, options)
        headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
        if tag in if_none_match(request):
            return Response(status_code=304, headers=headers)
        image = await self.context.run(self.render_row, row, frame, options)
        return Response(image.data, media_type=image.media_type, headers=headers)

    def render_row(self, row: Mapping[str, Any], frame: int, options: RenderOptions) -> Any:
        header, array = read_frame(self.context, row, frame)
        try:
            return render(header, array, options, frame_index=frame - 1)
        except NotRenderable as err:
            raise HttpProblem(406, f"instance {row['SOPInstanceUID']} cannot be rendered: {err}") from err
        except RenderingError as err:
            raise HttpProblem(400, str(err)) from err


# -- the request --------------------------------------------------------------------------


def request_options(request: Request, thumbnail: bool) -> RenderOptions:
    query = request.query_params
    accept = query.get("accept") if "accept" in query else request.headers.get("accept")
    media_type = choose_media_type(accept)
    if media_type is None:
        raise HttpProblem(406, f"cannot render into any of the acceptable media types ({accept}); "
                               "offered: image/jpeg, image/png")
    try:
        quality = parse_quality(query["quality"]) if "quality" in query else None
        viewport = parse_viewport(query["viewport"]) if query.get("viewport") else None
        window = parse_window(query["window"]) if query.get("window") and not thumbnail else None
    except RenderingError as err:
        raise HttpProblem(400, str(err)) from err
    return RenderOptions(media_type=media_type, quality=quality, viewport=viewport, window=window,
                         thumbnail=thumbnail)


def parse_frame(text: str) -> int:
    numbers = [part.strip() for part in text.split(",")]
    if len(numbers) != 1:
        raise HttpProblem(400, f"frames {text!r}: a rendered frame resource takes one frame number "
                               "(multi-frame rendered media types are not offered)")
    if not numbers[0].isdigit() or int(numbers[0]) < 1:
        raise HttpProblem(400, f"frame number {text!r} is not a whole number of 1 or more")
    return int(numbers[0])


def if_none_match(request: Request) -> set[str]:
    value = request.headers.get("if-none-match", "")
    return {part.strip().removeprefix("W/") for part in value.split(",") if part.strip()}


def etag(row: Mapping[str, Any], frame: int, options: RenderOptions) -> str:
    facts = [row.get("SOPInstanceUID"), row.get("location"), row.get("size"), row.get("mtime_ns"),
             row.get("digest"), frame, repr(options)]
    return '"' + hashlib.sha256(repr(facts).encode()).hexdigest()[:32] + '"'


# -- which instance -------------------------------------------------------------------------


def _is_image(row: Mapping[str, Any]) -> bool:
    rows = row.get("Rows")
    try:
        return rows is not None and rows != "" and int(rows) > 0
    except (TypeError, ValueError):
        return False


def _number_key(value: Any) -> tuple[int, int]:
    try:
        return (0, int(value))
    except (TypeError, ValueError):
        return (1, 0)


def representative(rows: list[dict[str, Any]], level: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The instance a study, series, instance or frame resource renders (404/406 when none)."""
    if not rows:
        study, series, instance = params["study"], params.get("series"), params.get("instance")
        what = {"study": f"study {study}", "series": f"series {series} in study {study}"}.get(
            level, f"instance {instance} in series {series} of study {study}")
        raise HttpProblem(404, f"no {what} is stored here")
    images = [row for row in rows if _is_image(row)]
    if not images:
        if level in ("instance", "frame"):
            row = rows[0]
            raise HttpProblem(406, f"instance {row['SOPInstanceUID']} (SOP Class {row.get('SOPClassUID') or '?'}) "
                                   "is not an image: it has no pixel data to render")
        raise HttpProblem(406, f"no instance in this {level} is an image: nothing to render")
    if level in ("instance", "frame"):
        return images[0]
    by_series: dict[str, list[dict[str, Any]]] = {}
    for row in images:
        by_series.setdefault(str(row.get("SeriesInstanceUID", "")), []).append(row)
    first_series = min(by_series.values(), key=lambda group: (_number_key(group[0].get("SeriesNumber")),
                                                              str(group[0].get("SeriesInstanceUID", ""))))
    ordered = sorted(first_series, key=lambda row: (_number_key(row.get("InstanceNumber")),
                                                    str(row.get("SOPInstanceUID", ""))))
    return ordered[len(ordered) // 2]


# -- pixels -----------------------------------------------------------------------------------


def local_path(context: Any, location: str) -> str | None:
    """The instance's file as a local path, when it is one."""
    if not location:
        return None
    if os.path.isabs(location):
        return location if os.path.isfile(location) else None
    root = getattr(context.store, "root", None)
    if root is not None:
        path = os.path.join(os.fspath(root), location)
        if os.path.isfile(path):
            return path
    return None


def read_frame(context: Any, row: Mapping[str, Any], frame: int) -> tuple[Any, Any]:
    """The header (no Pixel Data) and decoded frame ``frame`` (1-based) of the row's instance."""
    from gantry.errors import GantryError

    location = str(row.get("location") or "")
    uid = row.get("SOPInstanceUID")
    try:
        path = local_path(context, location)
        if path is not None:
            return _frame_from_file(context.kernel, path, frame, uid)
        if context.store is None:
            raise HttpProblem(500, f"the file of instance {uid} is not where the index says it is")
        with context.store.open(location) as stream:  # a store that is not a local folder
            data = stream.read()
        return _frame_from_bytes(context.kernel, data, frame, uid)
    except HttpProblem:
        raise
    except (GantryError, OSError, ValueError) as err:
        raise HttpProblem(500, f"cannot read the pixel data of instance {uid}: {err}") from err


def _check_frame(frame: int, count: int, uid: Any) -> None:
    if frame > count:
        raise HttpProblem(404, f"instance {uid} has {count} frame{'s' if count != 1 else ''}; "
                               f"there is no frame {frame}")


def _frame_from_file(kernel: Any, path: str, frame: int, uid: Any) -> tuple[Any, Any]:
    from gantry.frames import native_to_array, open_pixels
    from gantry.pixels import decode_frame

    with open_pixels(kernel, path) as source:
        _check_frame(frame, source.info.number_of_frames, uid)
        for number, encoded in enumerate(source.encoded_frames(), start=1):
            if number == frame:
                if source.encapsulated:
                    array = decode_frame(kernel, encoded, source.info, what=f"instance {uid} frame {frame}")
                else:
                    array = native_to_array(encoded, source.info)
                return source.header, array
    raise HttpProblem(404, f"instance {uid} has no frame {frame}")


def _frame_from_bytes(kernel: Any, data: bytes, frame: int, uid: Any) -> tuple[Any, Any]:
    from gantry.errors import CodecError
    from gantry.frames import native_to_array
    from gantry.pixels import PixelInfo, decode_frame
    from gantry.uids import NATIVE

    dataset = kernel.read(data)
    if "PixelData" not in dataset:
        raise CodecError("no Pixel Data (7FE0,0010) element")
    info = PixelInfo.from_dataset(dataset)
    _check_frame(frame, info.number_of_frames, uid)
    pixel_data = bytes(dataset.PixelData)
    del dataset.PixelData  # the header, as frame access gives it
    if info.transfer_syntax in NATIVE:  # native_to_array reads big-endian samples itself
        length = info.native_frame_length
        return dataset, native_to_array(pixel_data[(frame - 1) * length: frame * length], info)
    from pydicom.encaps import generate_frames

    for number, encoded in enumerate(generate_frames(pixel_data, number_of_frames=info.number_of_frames),
                                     start=1):
        if number == frame:
            return dataset, decode_frame(kernel, encoded, info, what=f"instance {uid} frame {frame}")
    raise HttpProblem(404, f"instance {uid} has no frame {frame}")
