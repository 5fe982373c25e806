"""The Session: one storage backend, the kernel's plugins and the site configuration, together.

    with Session("sqlite:///project.db") as session:
        summary = session.ingest(["/data/incoming"], workers=2)
        for patient in session.patients:
            for study in patient.studies:
                print(study.study_date, study.modalities_in_study, len(study.series))
        ct = session.query("series", Modality="CT", StudyDate="20240101-20241231")

Navigation objects (:mod:`gantry.model`) are built from the index and load their children on
first access; ``instance.dataset()`` reads the file and ``instance.frames()`` decodes pixels one
frame at a time, both only when asked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from gantry.ingest import Ingest, IngestSummary, Progress
from gantry.model import Instance, Patient, Series, Study
from gantry.storage import LEVELS


@attrs.frozen
class Stats:
    patients: int
    studies: int
    series: int
    instances: int
    bytes: int
    transfer_syntaxes: Mapping[str, int]
    modalities: Mapping[str, int]


class Session:
    """Open the index at ``database`` (a storage URL; the site configuration's
    ``storage.database`` when None) with ``kernel`` (built from the site configuration when None).
    """

    def __init__(self, database: str | None = None, *, kernel: Any = None) -> None:
        if kernel is None:
            from gantry.kernel import Kernel

            kernel = Kernel.from_config()
        self.kernel = kernel
        self.database = database or kernel.config.storage.database
        self.backend = kernel.open_storage(self.database)

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingest ------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], *,
               workers: int | None = None, progress: Progress | None = None) -> IngestSummary:
        """Index every DICOM file under ``paths`` (see :mod:`gantry.ingest`)."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return Ingest(self.kernel, self.backend, workers=workers, progress=progress).run(paths)

    # --- queries -----------------------------------------------------------------------------
    def query(self, level: str, filters: Mapping[str, str] | None = None, *,
              limit: int | None = None, offset: int = 0, **keys: str) -> list[dict[str, Any]]:
        """Index rows at ``level`` matching DICOM-style ``filters`` (also as keyword arguments):
        ``session.query("study", PatientName="DOE^*", StudyDate="20240101-")``."""
        return self.backend.query(level, {**(filters or {}), **keys}, limit=limit, offset=offset)

    def count(self, level: str, filters: Mapping[str, str] | None = None, **keys: str) -> int:
        return int(self.backend.count(level, {**(filters or {}), **keys}))

    @property
    def patients(self) -> list[Patient]:
        return [self._patient(row) for row in self.backend.query("patient")]

    def studies(self, filters: Mapping[str, str] | None = None, **keys: str) -> list[Study]:
        return [self._study(row) for row in self.query("study", filters, **keys)]

    def series(self, filters: Mapping[str, str] | None = None, **keys: str) -> list[Series]:
        return [self._series(row) for row in self.query("series", filters, **keys)]

    def instances(self, filters: Mapping[str, str] | None = None, **keys: str) -> list[Instance]:
        return [self._instance(row) for row in self.query("instance", filters, **keys)]

    def instance(self, sop_instance_uid: str) -> Instance | None:
        found = self.instances(SOPInstanceUID=sop_instance_uid)
        return found[0] if found else None

    def stats(self) -> Stats:
        counts = {level: self.backend.count(level) for level in LEVELS}
        syntaxes: dict[str, int] = {}
        modalities: dict[str, int] = {}
        size = 0
        for row in self.backend.query("instance", fields=("transfer_syntax_uid", "size")):
            syntaxes[row["transfer_syntax_uid"]] = syntaxes.get(row["transfer_syntax_uid"], 0) + 1
            size += row["size"] or 0
        for row in self.backend.query("series", fields=("Modality",
                                                         "NumberOfSeriesRelatedInstances")):
            modalities[row["Modality"]] = (modalities.get(row["Modality"], 0)
                                           + (row["NumberOfSeriesRelatedInstances"] or 0))
        return Stats(patients=counts["patient"], studies=counts["study"], series=counts["series"],
                     instances=counts["instance"], bytes=size, transfer_syntaxes=syntaxes,
                     modalities=modalities)

    # --- rows -> model objects -----------------------------------------------------------------
    def _patient(self, row: Mapping[str, Any]) -> Patient:
        key = {"PatientID": row["PatientID"], "IssuerOfPatientID": row.get("IssuerOfPatientID", "")}
        return Patient(
            patient_id=row["PatientID"], patient_name=row.get("PatientName", ""),
            patient_birth_date=row.get("PatientBirthDate", ""),
            patient_sex=row.get("PatientSex", ""),
            issuer_of_patient_id=row.get("IssuerOfPatientID", ""),
            number_of_studies=row.get("NumberOfPatientRelatedStudies"),
            load_studies=lambda: self._studies_of(key))

    def _studies_of(self, patient_key: Mapping[str, str]) -> list[Study]:
        # A filter value is a pattern ("*" in an ID would match others) and an empty one matches
        # everything, so the patient's rows are picked by exact comparison after the query.
        rows = self.query("study", {k: v for k, v in patient_key.items() if v})
        return [self._study(row) for row in rows
                if all(row.get(k, "") == v for k, v in patient_key.items())]

    def _study(self, row: Mapping[str, Any]) -> Study:
        uid = row["StudyInstanceUID"]
        return Study(
            study_instance_uid=uid, study_date=row.get("StudyDate", ""),
            study_time=row.get("StudyTime", ""), accession_number=row.get("AccessionNumber", ""),
            study_description=row.get("StudyDescription", ""), study_id=row.get("StudyID", ""),
            referring_physician_name=row.get("ReferringPhysicianName", ""),
            modalities_in_study=row.get("ModalitiesInStudy", ""),
            number_of_series=row.get("NumberOfStudyRelatedSeries"),
            number_of_instances=row.get("NumberOfStudyRelatedInstances"),
            patient_id=row.get("PatientID", ""),
            load_series=lambda: self.series(StudyInstanceUID=uid))

    def _series(self, row: Mapping[str, Any]) -> Series:
        uid = row["SeriesInstanceUID"]
        return Series(
            series_instance_uid=uid, modality=row.get("Modality", ""),
            series_number=row.get("SeriesNumber"), series_description=row.get("SeriesDescription", ""),
            series_date=row.get("SeriesDate", ""), body_part_examined=row.get("BodyPartExamined", ""),
            number_of_instances=row.get("NumberOfSeriesRelatedInstances"),
            study_instance_uid=row.get("StudyInstanceUID", ""),
            load_instances=lambda: self.instances(SeriesInstanceUID=uid))

    def _instance(self, row: Mapping[str, Any]) -> Instance:
        return Instance(
            sop_instance_uid=row["SOPInstanceUID"], sop_class_uid=row.get("SOPClassUID", ""),
            series_instance_uid=row.get("SeriesInstanceUID", ""),
            instance_number=row.get("InstanceNumber"),
            transfer_syntax_uid=row.get("transfer_syntax_uid", ""), location=row["location"],
            size=row.get("size"), rows=row.get("Rows"), columns=row.get("Columns"),
            number_of_frames=row.get("NumberOfFrames"), kernel=self.kernel)

