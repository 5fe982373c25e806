"""WADO-RS (instances, metadata, frames, bulk data) and WADO-URI, from the index and the files it
points at.

* ``GET /studies/{s}``, ``/studies/{s}/series/{se}``, ``/studies/{s}/series/{se}/instances/{i}``:
  ``multipart/related; type="application/dicom"``, one part per instance, each with its own
  ``Content-Type: application/dicom; transfer-syntax=<uid>``. The syntax comes from the Accept
  header (see :mod:`.syntaxes`); it is decided for every instance before the first byte is sent,
  so a request that cannot be served is a 406 naming why, never a half-sent body. Files are
  streamed in chunks; transcoded ones go through a temporary file, one at a time.
* ``.../metadata``: DICOM JSON (an array, one dataset per instance) with ``BulkDataURI`` for pixel
  data and every binary element longer than ``bulkdata_threshold``, under ``public_root``.
* ``.../instances/{i}/frames/1,2,3``: ``multipart/related``, one part per frame in the order asked.
  Native instances answer ``application/octet-stream`` (the stored frame bytes, Explicit VR
  Little Endian layout). Compressed ones answer each frame as stored with its media type
  (``image/jls``, ``image/dicom-rle``, ``image/jpeg``, ``image/jp2``, ``image/jphc``) when the Accept
  allows it (``*/*``, that type, or ``transfer-syntax=*``), otherwise decoded to native
  ``application/octet-stream`` through the ranked decoders (interleaved samples; YBR_FULL_422
  comes back as YBR_FULL).
* ``.../instances/{i}/bulkdata/{path}``: the value of one element (``GGGGEEEE`` or
  ``GGGGEEEE/<item>/GGGGEEEE`` below a sequence) as ``application/octet-stream``; for Pixel Data,
  native: the whole value in one part; compressed: one part per frame as for ``frames``.
* ``GET /wado?requestType=WADO&studyUID=..&seriesUID=..&objectUID=..&contentType=application/dicom``
  (WADO-URI, at the server root as Orthanc has it): the instance as a single ``application/dicom``
  body, in ``transferSyntax`` when given and possible, Explicit VR Little Endian otherwise (PS3.18
  WADO-URI default). Other content types (rendered JPEG) are not served here (406).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gantry.errors import CodecError
from gantry.log import Phi, get_logger

from gantry_dicomweb_server.context import InvalidUid, ServerContext
from gantry_dicomweb_server.dicomjson import dataset_to_json
from gantry_dicomweb_server.multipart import MediaType, coalesced, new_boundary, parse_accept, write_parts
from gantry_dicomweb_server.responses import HttpProblem, dicom_json_response, error_response
from gantry_dicomweb_server.syntaxes import (
    ANY,
    EXPLICIT_VR_LITTLE_ENDIAN,
    FRAME_MEDIA_TYPES,
    NATIVE,
    as_stored,
    can_produce,
    choose,
)

log = get_logger(__name__)

CHUNK = 1 << 20
OCTET_STREAM = "application/octet-stream"
DICOM_TYPES = frozenset({"application/dicom", "*/*", "application/*"})
INSTANCE = "/studies/{study}/series/{series}/instances/{instance}"


def wado_routes(context: ServerContext) -> list[Any]:
    async def retrieve(request: Request) -> Response:
        return await _guarded(context, retrieve_instances, request)

    async def metadata(request: Request) -> Response:
        return await _guarded(context, retrieve_metadata, request)

    async def frames(request: Request) -> Response:
        return await _guarded(context, retrieve_frames, request)

    async def bulkdata(request: Request) -> Response:
        return await _guarded(context, retrieve_bulkdata, request)

    return [
        Route("/studies/{study}", retrieve, methods=["GET"]),
        Route("/studies/{study}/series/{series}", retrieve, methods=["GET"]),
        Route(INSTANCE, retrieve, methods=["GET"]),
        Route("/studies/{study}/metadata", metadata, methods=["GET"]),
        Route("/studies/{study}/series/{series}/metadata", metadata, methods=["GET"]),
        Route(INSTANCE + "/metadata", metadata, methods=["GET"]),
        Route(INSTANCE + "/frames/{frames}", frames, methods=["GET"]),
        Route(INSTANCE + "/bulkdata/{path:path}", bulkdata, methods=["GET"]),
    ]


def wado_uri_routes(context: ServerContext) -> list[Any]:
    async def wado(request: Request) -> Response:
        return await _guarded(context, wado_uri, request)

    return [Route("/wado", wado, methods=["GET"])]


async def _guarded(context: ServerContext, handler: Any, request: Request) -> Response:
    try:
        return await context.run(handler, context, request)
    except HttpProblem as problem:
        return error_response(problem.status, problem.message, problem.headers)
    except InvalidUid:
        return error_response(400, "a UID in the path is not a UID")


def _rows(context: ServerContext, request: Request) -> list[dict[str, Any]]:
    params = request.path_params
    rows = context.instance_rows(params["study"], params.get("series"), params.get("instance"))
    if not rows:
        raise HttpProblem(404, "no such study, series or instance in this server's index")
    return rows


def _image(row: dict[str, Any]) -> bool:
    return row.get("Rows") not in (None, "", 0)


# -- instances ---------------------------------------------------------------------------------

def accepted_dicom_syntaxes(accept: list[MediaType]) -> list[str]:
    """Transfer syntaxes acceptable for application/dicom parts, in order of preference."""
    syntaxes: list[str] = []
    for media in accept:
        if media.value == "multipart/related":
            if media.params.get("type", "application/dicom").lower() not in DICOM_TYPES:
                continue
        elif media.value not in DICOM_TYPES and media.value != "multipart/*":
            continue
        syntax = media.params.get("transfer-syntax", EXPLICIT_VR_LITTLE_ENDIAN).strip()
        if syntax not in syntaxes:
            syntaxes.append(syntax)
    return syntaxes


def retrieve_instances(context: ServerContext, request: Request) -> Response:
    accepted = accepted_dicom_syntaxes(parse_accept(request.headers.get("accept")))
    if not accepted:
        raise HttpProblem(406, 'instances are served as multipart/related; type="application/dicom"')
    rows = _rows(context, request)
    plan = []
    for row in rows:
        stored = str(row.get("transfer_syntax_uid") or "")
        target = choose(context.kernel, stored, accepted, image=_image(row))
        if target is None:
            raise HttpProblem(406, f"instance {row['SOPInstanceUID']} is stored in {stored} and cannot be sent "
                                   f"losslessly in any acceptable transfer syntax ({', '.join(accepted)})")
        plan.append((row, target))
    boundary = new_boundary()
    parts = ((f"application/dicom; transfer-syntax={target}", instance_chunks(context, row, target))
             for row, target in plan)
    return StreamingResponse(coalesced(write_parts(boundary, parts)),
                             media_type=f'multipart/related; type="application/dicom"; boundary={boundary}')


def instance_chunks(context: ServerContext, row: dict[str, Any], target: str) -> Iterator[bytes]:
    """The instance's Part 10 bytes in ``target``: the file as stored, or a lossless transcode."""
    stored = str(row.get("transfer_syntax_uid") or "")
    if target == stored:
        yield from _file_chunks(row["location"])
        return
    with tempfile.TemporaryDirectory(prefix="gantry-wado-") as scratch:
        destination = os.path.join(scratch, "instance.dcm")
        _transcode(context.kernel, row, destination, target)
        yield from _file_chunks(destination)


def _transcode(kernel: Any, row: dict[str, Any], destination: str, target: str) -> None:
    if _image(row):
        from gantry_transcode.transcode import transcode_file

        outcome = transcode_file(kernel, row["location"], destination, target)
        if not outcome.ok or outcome.lossy:
            log.error("dicomweb.transcode_failed", sop_instance_uid=row["SOPInstanceUID"], target=target,
                      reason=Phi(outcome.reason or "lossy"))
            raise CodecError(f"instance {row['SOPInstanceUID']} could not be transcoded to {target}")
        return
    from pydicom import dcmread
    from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

    dataset = dcmread(row["location"], force=True)
    dataset.file_meta.TransferSyntaxUID = target
    dataset.save_as(destination, enforce_file_format=True, implicit_vr=target == ImplicitVRLittleEndian,
                    little_endian=target != ExplicitVRBigEndian)


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as source:
        if os.fstat(source.fileno()).st_size <= CHUNK:
            yield source.read()  # sized to the file: read(CHUNK) would allocate CHUNK for a small one
            return
        while chunk := source.read(CHUNK):
            yield chunk


# -- metadata ----------------------------------------------------------------------------------

def retrieve_metadata(context: ServerContext, request: Request) -> Response:
    accept = parse_accept(request.headers.get("accept"))
    if not any(media.value in ("application/dicom+json", "application/json", "*/*", "application/*")
               for media in accept):
        raise HttpProblem(406, "metadata is served as application/dicom+json only")
    rows = _rows(context, request)
    service = context.service_root(request)
    threshold = context.settings.bulkdata_threshold
    answers = []
    for row in rows:
        base = (f"{service}/studies/{row['StudyInstanceUID']}/series/{row['SeriesInstanceUID']}"
                f"/instances/{row['SOPInstanceUID']}")
        answers.append(dataset_to_json(_read(row, threshold), base, threshold))
    return dicom_json_response(answers)


def _read(row: dict[str, Any], defer: int | None = None) -> Any:
    from pydicom import dcmread

    try:
        return dcmread(row["location"], defer_size=defer, force=True)
    except Exception as err:
        log.error("dicomweb.unreadable", sop_instance_uid=row["SOPInstanceUID"], error=Phi(f"{type(err).__name__}: {err}"))
        raise HttpProblem(500, f"instance {row['SOPInstanceUID']} cannot be read") from None


# -- frames and bulk data ----------------------------------------------------------------------

def frame_plan(accept: list[MediaType], stored: str) -> str | None:
    """``"stored"`` (frames as stored, compressed ones with their media type), ``"native"``
    (decoded to application/octet-stream) or None (406)."""
    compressed = stored not in NATIVE
    own_types = FRAME_MEDIA_TYPES.get(stored, ())
    for media in accept:
        kind = media.params.get("type", "*/*").lower() if media.value == "multipart/related" else media.value
        syntax = media.params.get("transfer-syntax")
        if kind in ("*/*", "image/*") or kind in own_types:
            if kind == "image/*" and not compressed:
                continue
            if kind in own_types or kind == "*/*":
                if syntax in (None, ANY, stored):
                    return "stored"
            if kind == "*/*" and syntax == EXPLICIT_VR_LITTLE_ENDIAN:
                return "native"
            if kind == "image/*" and syntax in (None, ANY, stored):
                return "stored"
        if kind in (OCTET_STREAM, "application/*") and syntax in (None, ANY, EXPLICIT_VR_LITTLE_ENDIAN):
            return "native" if compressed else "stored"
    return None


def _frame_media(stored: str, plan: str) -> str:
    if plan == "stored" and stored not in NATIVE:
        return f"{FRAME_MEDIA_TYPES.get(stored, (OCTET_STREAM,))[0]}; transfer-syntax={stored}"
    return f"{OCTET_STREAM}; transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}"


def _frame_numbers(text: str) -> list[int]:
    numbers = []
    for piece in text.split(","):
        piece = piece.strip()
        if not piece.isdigit() or int(piece) < 1:
            raise HttpProblem(400, "frame numbers are whole numbers from 1, separated by commas")
        numbers.append(int(piece))
    return numbers


def _pixel_instance(context: ServerContext, request: Request) -> dict[str, Any]:
    row = _rows(context, request)[0]
    if not _image(row):
        raise HttpProblem(404, f"instance {row['SOPInstanceUID']} holds no pixel data")
    return row


def retrieve_frames(context: ServerContext, request: Request) -> Response:
    numbers = _frame_numbers(request.path_params["frames"])
    row = _pixel_instance(context, request)
    stored = str(row.get("transfer_syntax_uid") or "")
    plan = frame_plan(parse_accept(request.headers.get("accept")), stored)
    if plan is None:
        raise HttpProblem(406, f"frames of this instance ({stored}) are served as application/octet-stream or "
                               f"{' or '.join(FRAME_MEDIA_TYPES.get(stored, ())) or 'as stored'}")
    count = int(row.get("NumberOfFrames") or 1)
    missing = [number for number in numbers if number > count]
    if missing:
        raise HttpProblem(404, f"the instance has {count} frame(s); there is no frame {missing[0]}")
    frames = _frames(context.kernel, row, set(numbers), plan)
    return _multipart_frames(((_frame_media(stored, plan), frames[number]) for number in numbers), plan, stored)


def _multipart_frames(parts: Iterable[tuple[str, bytes]], plan: str, stored: str) -> Response:
    boundary = new_boundary()
    kind = (OCTET_STREAM if plan == "native" or stored in NATIVE
            else FRAME_MEDIA_TYPES.get(stored, (OCTET_STREAM,))[0])
    return StreamingResponse(coalesced(write_parts(boundary, ((media, [data]) for media, data in parts))),
                             media_type=f'multipart/related; type="{kind}"; boundary={boundary}')


def _frames(kernel: Any, row: dict[str, Any], wanted: set[int], plan: str) -> dict[int, bytes]:
    """The wanted frames (1-based) as ``plan`` says; read once, in file order."""
    from gantry.frames import open_pixels
    from gantry.uids import EXPLICIT_VR_BIG_ENDIAN

    found: dict[int, bytes] = {}
    try:
        with open_pixels(kernel, row["location"]) as pixels:
            if pixels.encapsulated:
                as_is = plan == "stored"
            else:  # native frames are sent little endian whatever the plan
                as_is = pixels.info.transfer_syntax != EXPLICIT_VR_BIG_ENDIAN
            source: Iterator[Any] = pixels.encoded_frames() if as_is else pixels.arrays()
            for number, frame in enumerate(source, start=1):
                if number in wanted:
                    found[number] = frame if as_is else _little_endian_bytes(frame)
                if len(found) == len(wanted):
                    break
    except CodecError as err:
        log.error("dicomweb.frames_failed", sop_instance_uid=row["SOPInstanceUID"], error=Phi(str(err)))
        raise HttpProblem(500, f"the frames of instance {row['SOPInstanceUID']} could not be read or decoded") from None
    return found


def _little_endian_bytes(array: Any) -> bytes:
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def retrieve_bulkdata(context: ServerContext, request: Request) -> Response:
    path = [piece for piece in request.path_params["path"].split("/") if piece]
    row = _rows(context, request)[0]
    accept = parse_accept(request.headers.get("accept"))
    if len(path) == 1 and path[0].upper() in ("7FE00010", "7FE00008", "7FE00009") and _image(row):
        stored = str(row.get("transfer_syntax_uid") or "")
        plan = frame_plan(accept, stored)
        if plan is None:
            raise HttpProblem(406, "pixel data is served as application/octet-stream or its frames' media type")
        count = int(row.get("NumberOfFrames") or 1)
        frames = _frames(context.kernel, row, set(range(1, count + 1)), plan)
        ordered = [frames[number] for number in range(1, count + 1)]
        if plan == "native" or stored in NATIVE:  # the whole value, one part
            return _multipart_frames([(_frame_media(stored, "native"), b"".join(ordered))], "native", stored)
        return _multipart_frames([(_frame_media(stored, plan), frame) for frame in ordered], plan, stored)
    if not any(media.value in (OCTET_STREAM, "*/*", "application/*")
               or (media.value == "multipart/related"
                   and media.params.get("type", OCTET_STREAM).lower() in (OCTET_STREAM, "*/*", "application/*"))
               for media in accept):
        raise HttpProblem(406, "bulk data is served as application/octet-stream")
    value = _element_bytes(_read(row), path)
    return _multipart_frames([(OCTET_STREAM, value)], "native", EXPLICIT_VR_LITTLE_ENDIAN)


def _element_bytes(dataset: Any, path: list[str]) -> bytes:
    node = dataset
    for position in range(0, len(path), 2):
        key = path[position]
        try:
            tag = int(key, 16)
        except ValueError:
            raise HttpProblem(404, f"{key} is not a tag (8 hex digits)") from None
        if len(key) != 8 or tag not in node:
            raise HttpProblem(404, f"no element {key.upper()} at that place")
        element = node[tag]
        if position + 1 == len(path):
            value = element.value
            if isinstance(value, bytes | bytearray):
                return bytes(value)
            raise HttpProblem(404, f"element {key.upper()} holds no bulk data")
        if element.VR != "SQ" or not path[position + 1].isdigit() or int(path[position + 1]) >= len(element.value):
            raise HttpProblem(404, f"no item {path[position + 1]} in {key.upper()}")
        node = element.value[int(path[position + 1])]
    raise HttpProblem(404, "a bulk data path ends with a tag")


# -- WADO-URI ----------------------------------------------------------------------------------

def wado_uri(context: ServerContext, request: Request) -> Response:
    query = request.query_params
    if query.get("requestType") != "WADO":
        raise HttpProblem(400, "requestType=WADO is required")
    uids = {name: query.get(name, "") for name in ("studyUID", "seriesUID", "objectUID")}
    missing = [name for name, uid in uids.items() if not uid]
    if missing:
        raise HttpProblem(400, f"{', '.join(missing)} required")
    content_types = [piece.strip().lower() for piece in query.get("contentType", "").split(",") if piece.strip()]
    if "application/dicom" not in content_types:
        raise HttpProblem(406, "this server answers WADO-URI with contentType=application/dicom only")
    if query.get("anonymize"):
        raise HttpProblem(400, "anonymize is not supported")
    rows = context.instance_rows(uids["studyUID"], uids["seriesUID"], uids["objectUID"])
    if not rows:
        raise HttpProblem(404, "no such instance in this server's index")
    row = rows[0]
    stored = str(row.get("transfer_syntax_uid") or "")
    asked = query.get("transferSyntax", "").strip()
    if asked == ANY:
        target = as_stored(stored)
    elif asked and can_produce(context.kernel, stored, asked, image=_image(row)):
        target = asked
    else:  # the WADO-URI default, and its fallback when the syntax asked for cannot be made
        target = EXPLICIT_VR_LITTLE_ENDIAN
        if not can_produce(context.kernel, stored, target, image=_image(row)):
            raise HttpProblem(406, f"the instance ({stored}) cannot be decoded here")
    return StreamingResponse(coalesced(instance_chunks(context, row, target)), media_type="application/dicom")
