"""STOW-RS: ``POST /studies`` and ``POST /studies/{study}`` with
``multipart/related; type="application/dicom"``.

The body is read as it arrives and each part spooled to its own file (:mod:`.multipart`); more
than ``max_upload_bytes`` (declared by Content-Length or counted while streaming) is refused with
413 at once. Only a complete, well-formed body is stored: a truncated or malformed one (400), a
wrong media type (415) or an oversized one (413) stores nothing. Then each part, in order, is
scanned, stored and indexed with its audit row (:mod:`.ingest`) before the answer names it.

The answer is the Store Instances Response Module (PS3.18 Annex I) in DICOM JSON:
ReferencedSOPSequence (with each instance's RetrieveURL), FailedSOPSequence (with FailureReason:
0xC000 unreadable, 0xA900 not in the study of the URL, 0x0111 a different instance already
stored under its UID, 0xA700 not written or not indexed), and the study's RetrieveURL when all
stored instances are of one study. Status: 200 all stored, 202 some failed, 409 none stored.
"""

from __future__ import annotations

import tempfile
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from gantry.log import get_logger

from gantry_dicomweb_server.context import ServerContext
from gantry_dicomweb_server.dicomjson import json_element, tag_key
from gantry.receiving import index_attributes
from gantry_dicomweb_server.ingest import DOES_NOT_MATCH, CANNOT_UNDERSTAND, ingest_file
from gantry_dicomweb_server.multipart import MultipartError, MultipartSpooler, SpooledPart, parse_media_type
from gantry_dicomweb_server.responses import HttpProblem, dicom_json_response, error_response

log = get_logger(__name__)


def stow_routes(context: ServerContext) -> list[Any]:
    async def store(request: Request) -> Response:
        return await store_instances(context, request, request.path_params.get("study"))

    return [Route("/studies", store, methods=["POST"]), Route("/studies/{study}", store, methods=["POST"])]


async def store_instances(context: ServerContext, request: Request, study: str | None) -> Response:
    limit = context.settings.max_upload_bytes
    media = parse_media_type(request.headers.get("content-type", ""))
    if media.value != "multipart/related":
        return error_response(415, 'STOW-RS takes multipart/related; type="application/dicom"')
    if media.params.get("type", "").lower() != "application/dicom":
        return error_response(415, 'only multipart/related parts of type "application/dicom" are accepted '
                                   "(not metadata and bulk data)")
    boundary = media.params.get("boundary")
    if not boundary:
        return error_response(400, "the multipart/related Content-Type has no boundary parameter")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return error_response(400, "Content-Length is not a number")
        if int(declared) > limit:
            return error_response(413, f"the body is larger than this server accepts ({limit} bytes)",
                                  headers={"Connection": "close"})
    if study is not None and not _is_uid(study):
        return error_response(400, "the Study Instance UID in the path is not a UID")
    with tempfile.TemporaryDirectory(prefix="gantry-stow-", dir=context.settings.spool_dir or None) as folder:
        try:
            parts = await _receive(request, boundary, folder, limit)
        except HttpProblem as problem:
            return error_response(problem.status, problem.message, headers=problem.headers)
        for number, part in enumerate(parts, start=1):
            if part.content_type is not None and parse_media_type(part.content_type).value != "application/dicom":
                return error_response(415, f"part {number} is {parse_media_type(part.content_type).value}, "
                                           "not application/dicom; nothing was stored")
        client = request.client.host if request.client else "unknown"
        service = context.service_root(request)
        answer, stored = await context.run(_store_parts, context, parts, study, client, service)
    status = 200 if stored and not answer.get("00081198") else 202 if stored else 409
    response = dicom_json_response(answer, status=status)
    records = [outcome.record for outcome in stored]
    if records:  # after the answer: a slow listener never delays it
        response.background = BackgroundTask(_announce, context, records)
    return response


async def _receive(request: Request, boundary: str, folder: str, limit: int) -> list[SpooledPart]:
    spooler: MultipartSpooler | None = None
    received = 0
    try:
        spooler = MultipartSpooler(boundary, folder)
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise HttpProblem(413, f"the body is larger than this server accepts ({limit} bytes)",
                                  headers={"Connection": "close"})
            spooler.feed(chunk)
        return spooler.finish()
    except MultipartError as err:
        raise HttpProblem(400, f"malformed multipart body: {err}; nothing was stored") from None
    except ClientDisconnect:
        raise HttpProblem(400, "the client went away before the body was complete; nothing was stored") from None
    except OSError as err:  # the spool folder is full or gone
        log.error("dicomweb.spool_failed", error=f"{type(err).__name__}: {err.strerror or err}")
        raise HttpProblem(503, "the body could not be spooled; nothing was stored") from None
    finally:
        if spooler is not None:
            spooler.abort()


def _store_parts(context: ServerContext, parts: list[SpooledPart], study: str | None, client: str,
                 service: str) -> tuple[dict[str, Any], list[Any]]:
    referenced: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    stored = []
    studies: set[str] = set()
    for part in parts:
        try:
            attributes = index_attributes(str(part.path), context.kernel)
        except ValueError as err:
            log.warning("dicomweb.stow_unreadable", client=client, reason=str(err))
            failed.append(_reference("", "", reason=CANNOT_UNDERSTAND))
            continue
        sop_class, sop = attributes.get("SOPClassUID", ""), attributes["SOPInstanceUID"]
        if study is not None and attributes["StudyInstanceUID"] != study:
            failed.append(_reference(sop_class, sop, reason=DOES_NOT_MATCH))
            continue
        outcome = ingest_file(context.kernel, context.backend, context.store, str(part.path), attributes,
                              client=client, overwrite=context.settings.overwrite)
        if not outcome.ok:
            failed.append(_reference(sop_class, sop, reason=outcome.failure_reason))
            continue
        stored.append(outcome)
        studies.add(attributes["StudyInstanceUID"])
        url = (f"{service}/studies/{attributes['StudyInstanceUID']}/series/"
               f"{attributes['SeriesInstanceUID']}/instances/{sop}")
        referenced.append(_reference(sop_class, sop, url=url))
    answer: dict[str, Any] = {}
    only_study = study if study is not None else (next(iter(studies)) if len(studies) == 1 else None)
    answer[tag_key(0x00081190)] = ({"vr": "UR", "Value": [f"{service}/studies/{only_study}"]}
                                   if only_study and stored else {"vr": "UR"})
    if failed:
        answer[tag_key(0x00081198)] = {"vr": "SQ", "Value": failed}
    if referenced:
        answer[tag_key(0x00081199)] = {"vr": "SQ", "Value": referenced}
    log.info("dicomweb.stow", client=client, stored=len(stored), failed=len(failed))
    return answer, stored


def _reference(sop_class: str, sop: str, *, reason: int | None = None, url: str | None = None) -> dict[str, Any]:
    item = dict([json_element("ReferencedSOPClassUID", sop_class), json_element("ReferencedSOPInstanceUID", sop)])
    if reason is not None:
        item[tag_key(0x00081197)] = {"vr": "US", "Value": [reason]}
    if url is not None:
        item[tag_key(0x00081190)] = {"vr": "UR", "Value": [url]}
    return dict(sorted(item.items()))


def _announce(context: ServerContext, records: list[Any]) -> None:
    for record in records:
        context.kernel.emit("gantry_instance_stored", instance=record)


def _is_uid(text: str) -> bool:
    return bool(text) and len(text) <= 64 and all(character in "0123456789." for character in text)
