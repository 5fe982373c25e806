"""The StorageBackend contract: what ``StorageBackend.open(url, settings)`` returns.

A backend persists four things, behind one interface whatever the database:

* the **index** of Patient -> Study -> Series -> Instance, holding every attribute needed to
  answer C-FIND and QIDO-RS queries (:data:`INDEX_ATTRIBUTES`), plus where each instance's file
  is, its size, modification time, transfer syntax and ingest status;
* the **audit trail**, append-only and hash-chained (:func:`chain_hash`), so that editing or
  deleting a row breaks :meth:`Backend.verify_audit`;
* the small **tables other plugins need**: UID map, per-patient date shifts, PHI findings, and
  job progress for resumable work;
* its **schema version**, migrated forward on open.

Everything crossing this interface is text: values are index text as :mod:`gantry.header`
renders them. Queries use DICOM matching (PS3.4 C.2.2.2): single value, ``*`` and ``?``
wildcards, a list of UIDs separated by backslashes, and ``a-b`` ranges (open on either side) for
dates, times and date-times. The contract test suite, :mod:`gantry.testing.storage`, proves a
backend; third-party backends run it too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import attrs

LEVELS = ("patient", "study", "series", "instance")

#: The attributes the index keeps per level (DICOM keywords), in the order of the hierarchy.
#: Queries at a level may filter on its own attributes and on those of the levels above it.
INDEX_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "patient": ("PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate",
                "PatientSex", "OtherPatientIDs"),
    "study": ("StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
              "StudyDescription", "ReferringPhysicianName"),
    "series": ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription",
               "SeriesDate", "SeriesTime", "BodyPartExamined"),
    "instance": ("SOPInstanceUID", "SOPClassUID", "InstanceNumber", "Rows", "Columns",
                 "NumberOfFrames", "ContentDate", "ContentTime"),
}

#: Attributes computed by the backend, answered in query results and matchable like the others.
COMPUTED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "patient": ("NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries",
                "NumberOfPatientRelatedInstances"),
    "study": ("ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"),
    "series": ("NumberOfSeriesRelatedInstances",),
    "instance": (),
}

#: Instance bookkeeping columns answered by instance-level queries (not DICOM keywords).
INSTANCE_FILE_FIELDS = ("location", "size", "mtime_ns", "transfer_syntax_uid", "status", "digest")

#: The identifying key of each level: the attribute that names one row.
LEVEL_KEYS = {"patient": "PatientID", "study": "StudyInstanceUID",
              "series": "SeriesInstanceUID", "instance": "SOPInstanceUID"}

#: How each attribute is matched: "date"/"time"/"datetime" allow ranges, "uid" allows lists,
#: "int" compares as a number, "text" allows wildcards. Every other keyword above is "text".
MATCHING: dict[str, str] = {
    "PatientBirthDate": "date", "StudyDate": "date", "SeriesDate": "date", "ContentDate": "date",
    "StudyTime": "time", "SeriesTime": "time", "ContentTime": "time",
    "StudyInstanceUID": "uid", "SeriesInstanceUID": "uid", "SOPInstanceUID": "uid",
    "SOPClassUID": "uid",
    "SeriesNumber": "int", "InstanceNumber": "int", "Rows": "int", "Columns": "int",
    "NumberOfFrames": "int", "NumberOfPatientRelatedStudies": "int",
    "NumberOfPatientRelatedSeries": "int", "NumberOfPatientRelatedInstances": "int",
    "NumberOfStudyRelatedSeries": "int", "NumberOfStudyRelatedInstances": "int",
    "NumberOfSeriesRelatedInstances": "int",
}

#: Every keyword a file scan must deliver for indexing (the File Meta's transfer syntax too).
SCAN_KEYWORDS: tuple[str, ...] = (
    "SpecificCharacterSet", "TransferSyntaxUID",
    *(keyword for level in LEVELS for keyword in INDEX_ATTRIBUTES[level]),
)


@attrs.frozen(kw_only=True)
class IndexRecord:
    """One instance to index: its attribute text and where its file is."""

    attributes: Mapping[str, str]
    """Index text per keyword (``SCAN_KEYWORDS``); SOPInstanceUID, SeriesInstanceUID and
    StudyInstanceUID are required, PatientID may be empty (it is then indexed as "")."""
    location: str
    size: int
    mtime_ns: int = 0
    transfer_syntax_uid: str = ""
    status: str = "indexed"
    digest: str | None = None
    """A content hash when the caller has one (hex); used to tell copies from conflicts."""


@attrs.frozen(kw_only=True)
class StoredFile:
    """What the index knows about one instance's file."""

    sop_instance_uid: str
    location: str
    size: int
    mtime_ns: int
    digest: str | None


@attrs.frozen(kw_only=True)
class AuditEvent:
    """One audit row as written: who did what, when, to which instance."""

    actor: str
    action: str
    sop_instance_uid: str = ""
    detail: Mapping[str, Any] = attrs.field(factory=dict)
    """Free-form facts (counts, options, reasons). Never patient data: UIDs at most."""
    at: str = ""
    """UTC time, ISO 8601; filled in by the backend when empty."""


@attrs.frozen(kw_only=True)
class AuditRow:
    """An audit event as stored, with its place and hash in the chain."""

    sequence: int
    event: AuditEvent
    previous_hash: str
    hash: str


@attrs.frozen(kw_only=True)
class AuditVerification:
    ok: bool
    checked: int
    broken_at: int | None = None
    """Sequence number of the first row whose hash or link does not hold."""
    reason: str = ""


@attrs.frozen(kw_only=True)
class Finding:
    """A value that looks like patient data, found by the privacy audit."""

    sop_instance_uid: str
    tag: str
    """Where: ``(gggg,eeee)``, with ``>``-separated sequence paths for nested ones."""
    rule: str
    job_id: int | None = None
    note: str = ""
    """Never the value itself."""


@attrs.frozen(kw_only=True)
class Job:
    id: int
    kind: str
    params: Mapping[str, Any]
    status: str
    """``running``, ``done`` or ``failed``."""
    started_at: str
    finished_at: str = ""


GENESIS_HASH = "0" * 64


def chain_hash(previous_hash: str, sequence: int, event: AuditEvent) -> str:
    """The hash of an audit row: SHA-256 over the previous hash and a canonical form of the row.

    Every backend computes it the same way, so ``verify_audit`` of one backend would accept a
    chain exported from another.
    """
    canonical = json.dumps(
        [previous_hash, sequence, event.at, event.actor, event.action, event.sop_instance_uid,
         dict(event.detail)],
        sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@runtime_checkable
class Backend(Protocol):
    """The StorageBackend contract. A backend may be used from several threads at once.

    Each call is one transaction, unless it runs inside ``with backend.transaction():``, where
    all calls commit together or not at all. Errors are :class:`gantry.StorageError`.
    """

    url: str

    # --- lifecycle -------------------------------------------------------------------------
    def close(self) -> None: ...
    def schema_version(self) -> int: ...
    def transaction(self) -> AbstractContextManager[None]: ...

    # --- index -----------------------------------------------------------------------------
    def index(self, records: Sequence[IndexRecord]) -> None:
        """Insert or update the instances (and their patient, study and series) in one go.

        An instance already indexed under the same SOP Instance UID is updated (its file moved
        or changed); a higher level's attributes are updated from the newest record.
        """

    def stored_files(self, sop_instance_uids: Sequence[str]) -> dict[str, StoredFile]:
        """What the index holds for those UIDs (unknown ones are left out)."""

    def files_under(self, prefix: str) -> dict[str, tuple[int, int]]:
        """``{location: (size, mtime_ns)}`` for every indexed file whose location starts with
        ``prefix``: how a resumed ingest skips files that have not changed."""

    def remove(self, level: str, uid: str) -> int:
        """Remove one patient/study/series/instance and everything below it; returns how many
        instances went. Levels left empty above are removed too."""

    def query(self, level: str, filters: Mapping[str, str] | None = None, *,
              fields: Sequence[str] | None = None, limit: int | None = None,
              offset: int = 0) -> list[dict[str, Any]]:
        """Rows at ``level`` matching every filter (DICOM matching), in a stable order.

        Each row holds the level's attributes, those of the levels above (so that a row names its
        patient, study and series), the computed counts, and at instance level the file fields.
        ``fields`` restricts the keys returned (the level keys are always included). Integer
        attributes come back as ``int`` (or None); everything else as ``str`` ("" when absent).
        A filter on an unknown keyword is a StorageError naming it.
        """

    def count(self, level: str, filters: Mapping[str, str] | None = None) -> int: ...

    # --- audit trail -----------------------------------------------------------------------
    def audit(self, events: Sequence[AuditEvent]) -> None:
        """Append events to the chain (``chain_hash``), in order."""

    def audit_rows(self, *, after: int = 0, limit: int | None = None) -> list[AuditRow]: ...

    def verify_audit(self) -> AuditVerification:
        """Recompute the chain from the first row: where does it first not hold, if anywhere?"""

    # --- tables other plugins need ---------------------------------------------------------
    def uid_map_get(self, originals: Sequence[str], *, namespace: str = "") -> dict[str, str]: ...
    def uid_map_put(self, pairs: Mapping[str, str], *, namespace: str = "") -> None:
        """Record original -> replacement; an original already mapped keeps its first mapping."""

    def date_shift_get(self, patient_key: str, *, namespace: str = "") -> int | None: ...
    def date_shift_put(self, patient_key: str, days: int, *, namespace: str = "") -> int:
        """Record the shift unless one exists; returns the shift in force (first one wins)."""

    def add_findings(self, findings: Sequence[Finding]) -> None: ...
    def findings(self, *, job_id: int | None = None,
                 sop_instance_uid: str | None = None) -> list[Finding]: ...

    def job_start(self, kind: str, params: Mapping[str, Any]) -> Job: ...
    def job_mark_done(self, job_id: int, items: Sequence[str]) -> None:
        """Record items (paths, UIDs) a job has finished, so that a resumed job skips them."""

    def job_done_items(self, job_id: int) -> set[str]: ...
    def job_finish(self, job_id: int, status: str = "done") -> None: ...
    def jobs(self, kind: str | None = None) -> list[Job]: ...
    def last_job(self, kind: str, params: Mapping[str, Any]) -> Job | None:
        """The most recent job of this kind with these exact parameters (to resume it)."""


def iter_batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` (the unit of one transaction)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


@attrs.frozen(kw_only=True)
class StoredInstance:
    """Where an instance store put an instance."""

    location: str
    """What ``open`` takes back (a path for the local store)."""
    size: int
    digest: str
    """SHA-256 of the bytes, hex."""
    existed: bool
    """True when an identical instance was already there (nothing was written)."""


@runtime_checkable
class InstanceStoreContract(Protocol):
    """What ``InstanceStore.open(url, settings)`` returns: a home for instance files.

    UIDs come from the network and are untrusted: a store never lets them choose a path outside
    its root. Writes are atomic (a reader sees the whole instance or none of it) and durable
    when they return. Storing an identical instance twice stores it once; storing different
    bytes under a SOP Instance UID that is already stored raises :class:`gantry.InstanceConflict`
    unless ``replace=True``.
    """

    url: str

    def put(self, data: bytes | memoryview | Iterator[bytes], *, study_uid: str, series_uid: str,
            sop_uid: str, replace: bool = False) -> StoredInstance: ...
    def put_file(self, path: str, *, study_uid: str, series_uid: str, sop_uid: str,
                 replace: bool = False) -> StoredInstance: ...
    def open(self, location: str) -> Any:
        """A binary file object for reading."""
    def delete(self, location: str) -> None: ...
    def locate(self, *, study_uid: str, series_uid: str, sop_uid: str) -> str | None:
        """Where that instance is stored, or None."""
