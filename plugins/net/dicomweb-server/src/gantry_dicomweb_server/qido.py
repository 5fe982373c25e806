"""QIDO-RS: search for studies, series and instances, answered from the storage backend's index.

Routes (under ``/dicom-web``): ``/studies``, ``/studies/{study}/series``, ``/series``,
``/studies/{study}/series/{series}/instances``, ``/studies/{study}/instances``, ``/instances``.

* **Matching keys** by keyword or tag (``PatientID=123``, ``00100020=123``): those the index holds
  at the level searched or above, and the computed ones (``ModalitiesInStudy``,
  ``NumberOfStudyRelatedInstances`` ...), are matched by the backend with DICOM matching: ``*``/``?``
  wildcards (case-sensitive), ``a-b`` date/time ranges, UID lists (``\\`` or ``,``). A key the index
  cannot match is ignored and named in a ``Warning`` header; a key that is no DICOM attribute, or
  a sequence path (``0040A730.00080100``), is a 400. An empty value (``StudyDescription=``) only
  asks for the attribute back.
* **includefield** (repeated or comma-separated keywords/tags, or ``all``) adds attributes the
  index holds; ones it does not hold are left out of the answer.
* **limit**/**offset** page the stable order of the index; at most ``max_results`` per answer.
  When more results exist than were answered, ``Warning: 299 <service>: There are additional
  results that can be requested`` (the client asks again with a larger offset).
* **fuzzymatching=true** is accepted, but matching stays literal: the answer carries the PS3.18
  ``Warning: 299 <service>: The fuzzymatching parameter is not supported. Only literal matching
  has been performed.`` (``emptyvaluematching=true`` and ``multiplevaluematching=true`` likewise
  get their PS3.18 Warnings.)
* Answers: ``application/dicom+json`` (200) holding the attributes PS3.18 requires at the level
  (those the index has: Table 10.6.3-3/-4/-5, plus the levels above when the path does not fix
  them), SpecificCharacterSet ``ISO_IR 192``, InstanceAvailability ``ONLINE`` and RetrieveURL; 204
  with no body when nothing matches. An Accept that rules out JSON (XML) is a 406.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gantry import StorageError
from gantry.storage import COMPUTED_ATTRIBUTES, INDEX_ATTRIBUTES, LEVELS, MATCHING

from gantry_dicomweb_server.context import ServerContext
from gantry_dicomweb_server.dicomjson import row_to_json
from gantry_dicomweb_server.multipart import parse_accept
from gantry_dicomweb_server.responses import HttpProblem, dicom_json_response, error_response, warning

JSON_TYPES = frozenset({"application/dicom+json", "application/json", "application/*", "*/*"})

#: The attributes answered at each level without being asked (PS3.18 Table 10.6.3-3 to -5),
#: as far as the index holds them.
REQUIRED: dict[str, tuple[str, ...]] = {
    "study": ("StudyDate", "StudyTime", "AccessionNumber", "ModalitiesInStudy", "ReferringPhysicianName",
              "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID",
              "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"),
    "series": ("StudyInstanceUID", "Modality", "SeriesDescription", "SeriesInstanceUID", "SeriesNumber",
               "NumberOfSeriesRelatedInstances"),
    "instance": ("StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID", "InstanceNumber",
                 "Rows", "Columns", "NumberOfFrames"),
}
#: What a series or instance answer adds from the levels above when the path leaves them open.
UPPER: dict[str, tuple[str, ...]] = {
    "study": ("StudyDate", "StudyTime", "AccessionNumber", "ReferringPhysicianName", "PatientName", "PatientID",
              "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID", "StudyDescription"),
    "series": ("Modality", "SeriesDescription", "SeriesNumber", "SeriesInstanceUID"),
}


def qido_routes(context: ServerContext) -> list[Any]:
    def search(level: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return await context.run(search_response, context, request, level)
        return endpoint

    return [
        Route("/studies", search("study"), methods=["GET"]),
        Route("/series", search("series"), methods=["GET"]),
        Route("/instances", search("instance"), methods=["GET"]),
        Route("/studies/{study}/series", search("series"), methods=["GET"]),
        Route("/studies/{study}/instances", search("instance"), methods=["GET"]),
        Route("/studies/{study}/series/{series}/instances", search("instance"), methods=["GET"]),
    ]


def matchable(level: str) -> frozenset[str]:
    above = LEVELS[:LEVELS.index(level) + 1]
    return frozenset(k for name in above for k in INDEX_ATTRIBUTES[name]) | frozenset(COMPUTED_ATTRIBUTES[level])


def keyword_of(key: str) -> str:
    """A query key (keyword or 8-digit tag) as a keyword; HttpProblem(400) when it is neither."""
    from pydicom.datadict import dictionary_keyword, keyword_for_tag, tag_for_keyword

    if "." in key:
        raise HttpProblem(400, f"sequence matching ({key}) is not supported")
    if len(key) == 8 and all(c in "0123456789abcdefABCDEF" for c in key):
        keyword = keyword_for_tag(int(key, 16))
        if keyword:
            return keyword
        try:
            return dictionary_keyword(int(key, 16))
        except KeyError:
            raise HttpProblem(400, f"{key} is not a known DICOM attribute tag") from None
    if tag_for_keyword(key) is None:
        raise HttpProblem(400, f"{key!r} is neither a DICOM keyword nor a tag (8 hex digits)")
    return key


def _number(text: str, name: str) -> int:
    if not text.isdigit():
        raise HttpProblem(400, f"{name} must be a whole number of 0 or more")
    return int(text)


def search_response(context: ServerContext, request: Request, level: str) -> Response:
    try:
        return _search(context, request, level)
    except HttpProblem as problem:
        return error_response(problem.status, problem.message, problem.headers)


def _search(context: ServerContext, request: Request, level: str) -> Response:
    accept = parse_accept(request.headers.get("accept"))
    if not any(media.value in JSON_TYPES for media in accept):
        raise HttpProblem(406, "QIDO-RS answers application/dicom+json only")
    service = context.service_root(request)
    path: dict[str, str] = {}
    for name, keyword in (("study", "StudyInstanceUID"), ("series", "SeriesInstanceUID")):
        if name in request.path_params:
            uid = request.path_params[name]
            if not uid or any(c not in "0123456789." for c in uid):
                raise HttpProblem(400, f"the {keyword} in the path is not a UID")
            path[keyword] = uid
    filters: dict[str, str] = dict(path)
    asked: list[str] = []
    ignored: list[str] = []
    include_all = False
    limit: int | None = None
    offset = 0
    fuzzy = False
    unsupported: list[str] = []
    can_match = matchable(level)
    for key, value in request.query_params.multi_items():
        lowered = key.lower()
        if lowered == "limit":
            limit = _number(value, "limit")
        elif lowered == "offset":
            offset = _number(value, "offset")
        elif lowered == "fuzzymatching":
            if value.lower() not in ("true", "false"):
                raise HttpProblem(400, "fuzzymatching must be true or false")
            fuzzy = value.lower() == "true"
        elif lowered in ("emptyvaluematching", "multiplevaluematching"):
            if value.lower() == "true":
                unsupported.append(lowered)
        elif lowered == "includefield":
            for item in (piece.strip() for piece in value.split(",")):
                if item.lower() == "all":
                    include_all = True
                elif item:
                    asked.append(keyword_of(item))
        else:
            keyword = keyword_of(key)
            if keyword in path:
                if value and value != path[keyword]:
                    return Response(status_code=204)  # the path and the key cannot both match
                continue
            asked.append(keyword)
            if not value or value == "*":
                continue
            if keyword not in can_match:
                ignored.append(keyword)
                continue
            if MATCHING.get(keyword) == "uid":
                value = value.replace(",", "\\")
            filters[keyword] = value
    maximum = context.settings.max_results
    page = maximum if limit is None or limit == 0 else min(limit, maximum)
    warnings: list[str] = []
    if limit is not None and limit > maximum:
        warnings.append(warning(service, f"The limit was lowered to {maximum}, the most this server answers at once"))
    if fuzzy:
        warnings.append(warning(service, "The fuzzymatching parameter is not supported. "
                                         "Only literal matching has been performed."))
    for name in unsupported:  # PS3.18 8.3.4.5 and 8.3.4.6
        what = "Empty Value Matching" if name == "emptyvaluematching" else "Multiple Value Matching"
        warnings.append(warning(service, f"The {name} parameter is not supported. {what} has not been performed."))
    if ignored:
        warnings.append(warning(service, "The following attributes are not supported for matching "
                                         f"and were ignored: {', '.join(dict.fromkeys(ignored))}"))
    try:
        rows = context.backend.query(level, filters, limit=page + 1, offset=offset)
    except StorageError as err:
        raise HttpProblem(400, f"the query cannot be answered: {err}") from None
    if len(rows) > page:
        rows = rows[:page]
        warnings.append(warning(service, "There are additional results that can be requested"))
    headers = {"Warning": ", ".join(warnings)} if warnings else {}
    if not rows:
        return Response(status_code=204, headers=headers)
    keywords = _answer_keywords(level, path, asked, include_all, can_match)
    answers = [row_to_json(row, keywords, _extras(service, level, row)) for row in rows]
    return dicom_json_response(answers, headers=headers)


def _answer_keywords(level: str, path: Mapping[str, str], asked: list[str], include_all: bool,
                     can_match: frozenset[str]) -> list[str]:
    keywords = list(REQUIRED[level])
    if level in ("series", "instance") and "StudyInstanceUID" not in path:
        keywords += UPPER["study"]
    if level == "instance" and "SeriesInstanceUID" not in path:
        keywords += UPPER["series"]
    if include_all:
        keywords += sorted(can_match)
    keywords += [keyword for keyword in asked if keyword in can_match]
    return list(dict.fromkeys(keywords))


def _extras(service: str, level: str, row: Mapping[str, Any]) -> dict[str, Any]:
    url = f"{service}/studies/{row['StudyInstanceUID']}"
    if level in ("series", "instance"):
        url += f"/series/{row['SeriesInstanceUID']}"
    if level == "instance":
        url += f"/instances/{row['SOPInstanceUID']}"
    extras: dict[str, Any] = {"SpecificCharacterSet": "ISO_IR 192", "RetrieveURL": url}
    if level != "series":  # Table 10.6.3-3 and -5: study and instance answers say where they are
        extras["InstanceAvailability"] = "ONLINE"
    return extras
