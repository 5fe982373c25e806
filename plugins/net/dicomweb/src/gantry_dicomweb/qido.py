"""QIDO-RS: Gantry query keys -> a resource path and query parameters; DICOM JSON -> Datasets.

Keys are DICOM keywords (or dotted paths into sequences, ``ReferencedSeriesSequence.SeriesInstanceUID``)
with DICOM matching values, as for C-FIND: a value matches (wildcards ``*`` ``?``, date and time
ranges ``20240101-20241231``, a UID list ``1.2\\1.3``); an empty value asks for the attribute back
(``includefield``). A single Study (and Series) Instance UID puts the query under that study
(series), as PS3.18 10.6.1 lays the resources out:

    study     ->  /studies
    series    ->  /studies/{study}/series                or /series
    instance  ->  /studies/{study}/series/{series}/instances, /studies/{study}/instances or /instances

There is no patient resource: a patient-level query asks for studies and returns each patient once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from gantry import TransportError

LEVEL_RESOURCES = {"study": "studies", "series": "series", "instance": "instances"}
LEVELS = ("patient", "study", "series", "instance")
NOT_SINGLE = ("*", "?", "\\", ",", "-")
PATIENT_KEYS = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex")
MESSAGE_KEYS = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet"})


@attrs.frozen(kw_only=True)
class QidoQuery:
    level: str
    path: str
    params: tuple[tuple[str, str], ...]
    """Matching parameters and includefield, without limit/offset (paging adds them)."""


def normalise_level(level: str) -> str:
    name = (level or "").strip().lower()
    name = {"studies": "study", "image": "instance", "instances": "instance", "patients": "patient"}.get(name, name)
    if name not in LEVELS:
        raise ValueError(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
    return name


def single(value: str | None) -> str:
    """The value when it names exactly one UID, else ''."""
    text = (value or "").strip()
    return "" if not text or any(mark in text for mark in NOT_SINGLE) else text


def build_query(level: str, keys: Mapping[str, str], *, include_fields: Sequence[str] = (),
                fuzzy: bool = False) -> QidoQuery:
    """The QIDO request for ``keys`` at ``level`` (ValueError for an unknown keyword)."""
    level = normalise_level(level)
    wire = "study" if level == "patient" else level
    keys = {key: value for key, value in keys.items() if key not in MESSAGE_KEYS}
    study, series = single(keys.get("StudyInstanceUID")), single(keys.get("SeriesInstanceUID"))
    path = LEVEL_RESOURCES[wire]
    under: set[str] = set()
    if wire == "series" and study:
        path, under = f"studies/{study}/series", {"StudyInstanceUID"}
    elif wire == "instance" and study and series:
        path, under = f"studies/{study}/series/{series}/instances", {"StudyInstanceUID", "SeriesInstanceUID"}
    elif wire == "instance" and study:
        path, under = f"studies/{study}/instances", {"StudyInstanceUID"}
    params: list[tuple[str, str]] = []
    includes: list[str] = []
    for key, value in keys.items():
        attribute = attribute_id(key)
        text = "" if value is None else str(value)
        if key in under:
            continue
        if text == "":
            includes.append(attribute)
        else:
            params.append((attribute, text.replace("\\", ",")))
    if level == "patient":
        includes += [key for key in PATIENT_KEYS if key not in keys]
    for field in include_fields:
        includes.append("all" if field.lower() == "all" else attribute_id(field))
    params += [("includefield", field) for field in dict.fromkeys(includes)]
    if fuzzy:
        params.append(("fuzzymatching", "true"))
    return QidoQuery(level=level, path=path, params=tuple(params))


def attribute_id(key: str) -> str:
    """``PatientName`` -> ``PatientName``; a dotted sequence path -> tags (``0008115C.0020000E``);
    ``00100010`` and ``(0010,0010)`` -> ``00100010``. ValueError for an unknown keyword."""
    from pydicom.datadict import tag_for_keyword

    parts = key.split(".")
    if len(parts) == 1 and tag_for_keyword(key) is not None:
        return key
    tags = []
    for part in parts:
        cleaned = part.strip().strip("()").replace(",", "")
        if len(cleaned) == 8 and all(char in "0123456789abcdefABCDEF" for char in cleaned):
            tags.append(cleaned.upper())
            continue
        tag = tag_for_keyword(part.strip())
        if tag is None:
            raise ValueError(f"unknown DICOM keyword {part!r}")
        tags.append(f"{tag:08X}")
    return ".".join(tags)


def datasets_from_json(items: Iterable[Mapping[str, Any]], bulk_handler: Any = None) -> list[Any]:
    """DICOM JSON objects (PS3.18 F.2) -> pydicom Datasets."""
    from pydicom import Dataset

    result = []
    for item in items:
        if not isinstance(item, Mapping):
            raise TransportError(f"a DICOM JSON answer holds {type(item).__name__}, not an object")
        result.append(Dataset.from_json(dict(item), bulk_data_uri_handler=bulk_handler))
    return result


def patient_rows(studies: Iterable[Any], keys: Mapping[str, str]) -> list[Any]:
    """One Dataset per patient (PatientID and issuer) from study answers, keeping patient attributes."""
    from pydicom import Dataset

    wanted = [key for key in dict.fromkeys([*PATIENT_KEYS, *keys]) if key not in MESSAGE_KEYS and "." not in key]
    seen: set[tuple[str, str]] = set()
    patients = []
    for study in studies:
        identity = (str(study.get("PatientID", "")), str(study.get("IssuerOfPatientID", "")))
        if identity in seen:
            continue
        seen.add(identity)
        patient = Dataset()
        for keyword in wanted:
            if keyword in study:
                patient[keyword] = study[keyword]
        patients.append(patient)
    return patients
