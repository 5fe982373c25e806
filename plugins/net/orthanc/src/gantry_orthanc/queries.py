"""``find``: DICOM matching over ``POST /tools/find``, answers as pydicom Datasets.

Each answer holds ``QueryRetrieveLevel``, the level's unique key and every key asked for (a
return key Orthanc knows nothing about comes back empty, as a C-FIND SCP answers it). Where the
values come from, cheapest first (``OrthancFind.sources`` says, per keyword, for the last query):

1. ``main``: the resource's MainDicomTags (and PatientMainDicomTags for a study), from the
   expanded /tools/find answer itself;
2. ``computed``: NumberOfPatientRelatedStudies/Series/Instances, NumberOfStudyRelatedSeries/
   Instances, NumberOfSeriesRelatedInstances (from the resource lists and ``/statistics``) and
   ModalitiesInStudy (from the study's series);
3. ``parent``: the MainDicomTags of the parent series, study and patient (``GET /series/{id}`` ...);
4. ``metadata``: for instances, SOPClassUID and TransferSyntaxUID from Orthanc's metadata
   (``SopClassUid``, ``TransferSyntax``), without reading the file;
5. ``file``: anything else from ``GET /instances/{id}/simplified-tags``: the instance itself at
   instance level, the resource's first instance above it. This reads the DICOM file on the
   server, one request per answer, so it is the slow path.

Matching (wildcards ``*`` ``?``, ranges ``20240101-20241231``, UID lists ``a\\b``) is Orthanc's,
on every key with a non-empty value; keys Orthanc cannot match (QueryRetrieveLevel,
SpecificCharacterSet and the computed attributes but ModalitiesInStudy) are return keys only.
Paging: ``Limit`` and ``Since`` in pages of ``page_size``; ``limit`` stops after that many answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.sequence import Sequence

from gantry import TransportError
from gantry.log import get_logger

from gantry_orthanc.client import OrthancClient, OrthancHTTPError

log = get_logger("gantry.orthanc")

ORTHANC_LEVELS = {"patient": "Patient", "study": "Study", "series": "Series", "instance": "Instance"}
RESOURCES = {"patient": "patients", "study": "studies", "series": "series", "instance": "instances"}
WIRE_LEVELS = {"patient": "PATIENT", "study": "STUDY", "series": "SERIES", "instance": "IMAGE"}
UNIQUE_KEYS = {"patient": "PatientID", "study": "StudyInstanceUID", "series": "SeriesInstanceUID",
               "instance": "SOPInstanceUID"}
PARENT_FIELDS = {"instance": ("ParentSeries", "series"), "series": ("ParentStudy", "study"),
                 "study": ("ParentPatient", "patient")}
CHILD_FIELDS = {"patient": "Studies", "study": "Series", "series": "Instances"}
_ALIASES = {"image": "instance", "images": "instance", "instances": "instance", "studies": "study",
            "patients": "patient"}
COMPUTED = {
    "patient": ("NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"),
    "study": ("NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "ModalitiesInStudy"),
    "series": ("NumberOfSeriesRelatedInstances",),
    "instance": (),
}
#: Orthanc's metadata names for instance attributes it keeps outside MainDicomTags.
METADATA = {"SOPClassUID": "SopClassUid", "TransferSyntaxUID": "TransferSyntax"}
NEVER_MATCHED = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet", "NumberOfPatientRelatedStudies",
                           "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances",
                           "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
                           "NumberOfSeriesRelatedInstances"})
_BINARY_NUMBERS = {"US": int, "SS": int, "UL": int, "SL": int, "UV": int, "SV": int, "FL": float, "FD": float}
_NO_SPLIT = {"LT", "ST", "UT", "OB", "OW", "OF", "OD", "OL", "OV", "UN", "UR"}


def normalise_level(level: str) -> str:
    name = str(level).strip().lower()
    name = _ALIASES.get(name, name)
    if name not in ORTHANC_LEVELS:
        raise ValueError(f"unknown query level {level!r}: use patient, study, series or instance")
    return name


def check_keywords(url: str, keys: Mapping[str, Any]) -> None:
    unknown = [keyword for keyword in keys if tag_for_keyword(keyword) is None]
    if unknown:
        raise TransportError(f"{url}: bad query key(s) {', '.join(sorted(unknown))}: not DICOM keywords")


def orthanc_query(keys: Mapping[str, Any]) -> dict[str, str]:
    """The ``Query`` object: every key with a value Orthanc can match on."""
    return {keyword: str(value) for keyword, value in keys.items()
            if value not in (None, "") and keyword not in NEVER_MATCHED}


class OrthancFind:
    """One query (see the module docstring); ``sources`` maps keyword -> where its values came from."""

    def __init__(self, client: OrthancClient, *, page_size: int, case_sensitive: bool) -> None:
        self.client = client
        self.page_size = page_size
        self.case_sensitive = case_sensitive
        self.sources: dict[str, str] = {}
        self._resources: dict[tuple[str, str], dict[str, Any]] = {}

    def resources(self, level: str, keys: Mapping[str, Any], *, limit: int | None = None,
                  expand: bool = True) -> Iterator[Any]:
        """The raw answers of /tools/find (expanded resources, or Orthanc IDs), page by page."""
        level = normalise_level(level)
        check_keywords(self.client.url, keys)
        query = orthanc_query(keys)
        offset, remaining = 0, limit
        while remaining is None or remaining > 0:
            ask = self.page_size if remaining is None else min(self.page_size, remaining)
            page = self.client.post_json("/tools/find", {
                "Level": ORTHANC_LEVELS[level], "Query": query, "Expand": expand, "Limit": ask, "Since": offset,
                "CaseSensitive": self.case_sensitive})
            if not isinstance(page, list):
                raise TransportError(f"{self.client.url}: /tools/find answered {type(page).__name__}, not a list")
            yield from page
            offset += len(page)
            if remaining is not None:
                remaining -= len(page)
            if len(page) < ask:
                break

    def find(self, level: str, keys: Mapping[str, Any], *, limit: int | None = None) -> Iterator[Dataset]:
        level = normalise_level(level)
        wanted = list(dict.fromkeys([UNIQUE_KEYS[level], *(k for k in keys if k != "QueryRetrieveLevel")]))
        for resource in self.resources(level, keys, limit=limit):
            yield self.answer(level, resource, wanted)

    # -- building one answer ----------------------------------------------------------------

    def answer(self, level: str, resource: Mapping[str, Any], wanted: list[str]) -> Dataset:
        values: dict[str, Any] = {}
        main = dict(resource.get("MainDicomTags") or {})
        if level == "study":
            main.update(resource.get("PatientMainDicomTags") or {})
        self._take(values, wanted, main, "main")
        self._take(values, wanted, self._computed(level, resource, wanted), "computed")
        current_level, current = level, resource
        while len(values) < len(wanted) and current_level in PARENT_FIELDS:
            field, parent_level = PARENT_FIELDS[current_level]
            current = self._resource(parent_level, str(current.get(field) or ""))
            current_level = parent_level
            tags = dict(current.get("MainDicomTags") or {})
            if parent_level == "study":
                tags.update(current.get("PatientMainDicomTags") or {})
            self._take(values, wanted, tags, "parent")
        if level == "instance" and len(values) < len(wanted):
            self._take(values, wanted, self._metadata(str(resource.get("ID")), wanted, values), "metadata")
        if len(values) < len(wanted):
            instance = self._first_instance(level, resource)
            tags = self.client.get_json(f"/instances/{instance}/simplified-tags") if instance else {}
            self._take(values, wanted, tags, "file")
        return to_dataset(WIRE_LEVELS[level], wanted, values)

    def _take(self, values: dict[str, Any], wanted: list[str], tags: Mapping[str, Any], source: str) -> None:
        for keyword in wanted:
            if keyword not in values and keyword in tags:
                values[keyword] = tags[keyword]
                self.sources.setdefault(keyword, source)
                if source == "file":
                    log.debug("orthanc.find.file_tag", keyword=keyword)

    def _computed(self, level: str, resource: Mapping[str, Any], wanted: list[str]) -> dict[str, Any]:
        asked = [keyword for keyword in COMPUTED[level] if keyword in wanted]
        if not asked:
            return {}
        identifier = str(resource.get("ID"))
        children = resource.get(CHILD_FIELDS.get(level, ""), None)
        out: dict[str, Any] = {}
        statistics: dict[str, Any] | None = None

        def stats() -> dict[str, Any]:
            nonlocal statistics
            if statistics is None:
                statistics = dict(self.client.get_json(f"/{RESOURCES[level]}/{identifier}/statistics"))
            return statistics

        for keyword in asked:
            if keyword in ("NumberOfPatientRelatedStudies", "NumberOfStudyRelatedSeries",
                           "NumberOfSeriesRelatedInstances") and isinstance(children, list):
                out[keyword] = str(len(children))
            elif keyword.endswith("RelatedSeries"):
                out[keyword] = str(stats().get("CountSeries", ""))
            elif keyword.endswith("RelatedInstances"):
                out[keyword] = str(stats().get("CountInstances", ""))
            elif keyword == "ModalitiesInStudy":
                series = self.client.get_json(f"/studies/{identifier}/series")
                modalities = sorted({str((item.get("MainDicomTags") or {}).get("Modality", ""))
                                     for item in series} - {""})
                out[keyword] = "\\".join(modalities)
        return out

    def _metadata(self, instance: str, wanted: list[str], values: Mapping[str, Any]) -> dict[str, Any]:
        asked = [keyword for keyword in METADATA if keyword in wanted and keyword not in values]
        out: dict[str, Any] = {}
        for keyword in asked:
            try:
                answer = self.client.request("GET", f"/instances/{instance}/metadata/{METADATA[keyword]}")
            except OrthancHTTPError as err:
                if err.status == 404:
                    continue
                raise
            out[keyword] = answer.text.strip()
        return out

    def _resource(self, level: str, identifier: str) -> dict[str, Any]:
        if not identifier:
            return {}
        key = (level, identifier)
        if key not in self._resources:
            try:
                self._resources[key] = dict(self.client.get_json(f"/{RESOURCES[level]}/{identifier}"))
            except OrthancHTTPError as err:
                if err.status != 404:
                    raise
                self._resources[key] = {}  # deleted meanwhile: its keys come back empty
        return self._resources[key]

    def _first_instance(self, level: str, resource: Mapping[str, Any]) -> str:
        current_level, current = level, resource
        while current_level != "instance":
            children = current.get(CHILD_FIELDS[current_level]) or []
            if not children:
                return ""
            current_level = {"patient": "study", "study": "series", "series": "instance"}[current_level]
            if current_level == "instance":
                return str(children[0])
            current = self._resource(current_level, str(children[0]))
        return str(current.get("ID") or "")


def to_dataset(wire_level: str, wanted: list[str], values: Mapping[str, Any]) -> Dataset:
    """An identifier like a C-FIND answer: QueryRetrieveLevel and each wanted keyword."""
    dataset = Dataset()
    dataset.QueryRetrieveLevel = wire_level
    non_ascii = False
    for keyword in wanted:
        value = values.get(keyword)
        put(dataset, keyword, value)
        non_ascii = non_ascii or (isinstance(value, str) and not value.isascii())
    if non_ascii:
        dataset.SpecificCharacterSet = "ISO_IR 192"  # Orthanc's JSON is Unicode: say so when it matters
    return dataset


def put(dataset: Dataset, keyword: str, value: Any) -> None:
    """Set ``keyword`` from Orthanc's JSON value (text, a list of items for a sequence, or null)."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        return
    vr = dictionary_VR(tag)
    if value is None or value == "":
        dataset.add_new(tag, vr, None if vr != "SQ" else [])
        return
    if vr == "SQ":
        items = []
        for item in value if isinstance(value, list) else []:
            child = Dataset()
            for child_keyword, child_value in (item or {}).items():
                put(child, child_keyword, child_value)
            items.append(child)
        dataset.add_new(tag, vr, Sequence(items))
        return
    if not isinstance(value, str):
        return  # a binary value Orthanc does not show (PixelData: null) or a shape we do not know
    parts: Any = value.split("\\") if vr not in _NO_SPLIT and "\\" in value else value
    if vr in _BINARY_NUMBERS:
        convert = _BINARY_NUMBERS[vr]
        try:
            parts = [convert(p) for p in parts] if isinstance(parts, list) else convert(parts)
        except ValueError:
            return
    if vr.startswith("O") or vr == "UN":
        return
    try:
        dataset.add_new(tag, vr, parts)
    except (ValueError, TypeError, OverflowError):  # a value pydicom refuses: keep its text form
        dataset.add_new(tag, "UN" if vr in _BINARY_NUMBERS else vr, value)
