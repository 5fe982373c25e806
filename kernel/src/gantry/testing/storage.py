"""The StorageBackend contract suite: subclass it to prove a backend.

    from gantry.testing.storage import StorageBackendContract

    class TestMyBackend(StorageBackendContract):
        @pytest.fixture
        def backend_url(self, tmp_path):
            return f"mydb:///{tmp_path}/index"      # a fresh, empty database that persists

        def raw_sql(self, url, sql): ...            # run SQL as someone with write access would
        def tamper_sql(self, url, sql): ...         # the same, with the append-only guard removed

Every test opens the backend through a kernel (``storage_kernel``: by default one over the
installed plugins; override it to hold your plugin object only), so the registration is tested
too. The SQL passed to ``raw_sql``/``tamper_sql`` is written against gantry-sql's ``audit``
table (``sequence, at, actor, action, sop_instance_uid, detail, previous_hash, hash``); a backend
with another layout translates it.

The helpers :func:`index_record` and :func:`synthetic_records` build IndexRecords for any test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from gantry.errors import StorageError
from gantry.storage import (
    GENESIS_HASH,
    AuditEvent,
    Backend,
    Finding,
    IndexRecord,
    chain_hash,
)
from gantry.testing.datasets import PLANTED_PHI, make_uid
from gantry.testing.fixtures import kernel_with
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MTIME_NS = 1_700_000_000_000_000_000


def index_record(patient: int = 1, study: int = 1, series: int = 1, instance: int = 1, *,
                 location: str | None = None, size: int = 4096, mtime_ns: int = MTIME_NS,
                 transfer_syntax_uid: str = EXPLICIT_VR_LITTLE_ENDIAN, status: str = "indexed",
                 digest: str | None = None, **attributes: str) -> IndexRecord:
    """A realistic IndexRecord; the numbers make deterministic UIDs (as ``make_dataset`` does).

    ``attributes`` override or add keywords; an empty string leaves that keyword out.
    """
    values = {
        "PatientID": f"PID-{patient}", "PatientName": f"DOE^PATIENT{patient}",
        "PatientBirthDate": "19700101", "PatientSex": "O",
        "StudyInstanceUID": make_uid(patient, study), "StudyDate": "20240315", "StudyTime": "101500",
        "AccessionNumber": f"ACC{patient}-{study}", "StudyID": str(study), "StudyDescription": "CHEST",
        "ReferringPhysicianName": "REFERRER^A",
        "SeriesInstanceUID": make_uid(patient, study, series), "Modality": "CT",
        "SeriesNumber": str(series), "SeriesDescription": "AXIAL", "SeriesDate": "20240315",
        "SeriesTime": "101600", "BodyPartExamined": "CHEST",
        "SOPInstanceUID": make_uid(patient, study, series, instance, 9), "SOPClassUID": CT_IMAGE_STORAGE,
        "InstanceNumber": str(instance), "Rows": "512", "Columns": "512", "NumberOfFrames": "1",
        "ContentDate": "20240315", "ContentTime": "101601", "TransferSyntaxUID": transfer_syntax_uid,
    }
    values.update(attributes)
    return IndexRecord(
        attributes={keyword: value for keyword, value in values.items() if value != ""},
        location=location or f"/archive/p{patient}/s{study}/se{series}/{instance}.dcm",
        size=size, mtime_ns=mtime_ns, transfer_syntax_uid=transfer_syntax_uid, status=status, digest=digest,
    )


MODALITY_CYCLE = ("CT", "MR", "PR", "SR")


def synthetic_records(studies: int, series_per_study: int = 4, instances_per_series: int = 25,
                      *, patients: int | None = None, first_study: int = 0) -> list[IndexRecord]:
    """A big index: ``studies`` studies spread over ``patients`` patients, series modalities
    cycling CT, MR, PR, SR, study dates spread over 2024."""
    patients = patients or max(1, studies // 3)
    records = []
    for study in range(first_study, first_study + studies):
        patient = study % patients
        for series in range(series_per_study):
            for instance in range(instances_per_series):
                records.append(index_record(
                    patient, study, series, instance,
                    StudyDate=f"2024{study % 12 + 1:02d}{study % 28 + 1:02d}",
                    Modality=MODALITY_CYCLE[series % len(MODALITY_CYCLE)],
                    location=f"/archive/{study}/{series}/{instance}.dcm"))
    return records


# The sample the matching tests query. Per study: (patient, study, attributes, series), where a
# series is (series number, modality, instances).
_SAMPLE_PATIENTS = {
    1: {"PatientName": "DOE^JOHN", "PatientBirthDate": "19610704"},
    2: {"PatientName": "doe^jane", "PatientBirthDate": "19800229"},
    3: {"PatientName": "SMITH^ANN", "PatientBirthDate": "19991231"},
}
_SAMPLE_STUDIES = (
    (1, 1, {"StudyDate": "20240105", "StudyTime": "0930", "AccessionNumber": "ACC-100%_A",
            "StudyDescription": "HEAD [CONTRAST]"}, ((1, "CT", 3), (2, "SR", 1))),
    (1, 2, {"StudyDate": "20240320", "StudyTime": "141530.5", "AccessionNumber": "ACC-100XYA",
            "StudyDescription": "NEURO!"}, ((1, "MR", 2),)),
    (2, 1, {"StudyDate": "20231231", "StudyTime": "2359", "AccessionNumber": "ACC-200",
            "StudyDescription": "chest"}, ((1, "CT", 2), (2, "PR", 1))),
    (3, 1, {"StudyDate": "2024XX01", "StudyTime": "10", "AccessionNumber": "",
            "StudyDescription": "CHEST"}, ((1, "US", 1),)),
)


def sample_records() -> list[IndexRecord]:
    """3 patients, 4 studies, 6 series, 10 instances with values chosen for the matching tests."""
    records = []
    for patient, study, study_attributes, series_list in _SAMPLE_STUDIES:
        for series, modality, instances in series_list:
            for instance in range(1, instances + 1):
                records.append(index_record(patient, study, series, instance, Modality=modality,
                                            **_SAMPLE_PATIENTS[patient], **study_attributes))
    return records


def study_uid(patient: int, study: int) -> str:
    return make_uid(patient, study)


def series_uid(patient: int, study: int, series: int) -> str:
    return make_uid(patient, study, series)


def sop_uid(patient: int, study: int, series: int, instance: int) -> str:
    return make_uid(patient, study, series, instance, 9)


def events(count: int, actor: str = "tester", start: int = 0) -> list[AuditEvent]:
    return [AuditEvent(actor=actor, action="test.step", sop_instance_uid=make_uid(7, n),
                       detail={"n": n, "note": "ok"}) for n in range(start, start + count)]


class StorageBackendContract:
    """What every StorageBackend must do. Subclass with ``backend_url``, ``raw_sql``, ``tamper_sql``."""

    # --- what a backend's test class provides ----------------------------------------------

    @pytest.fixture
    def backend_url(self) -> str:
        raise NotImplementedError("the backend's test class must provide a backend_url fixture")

    def raw_sql(self, url: str, sql: str) -> None:
        """Run one statement on the database directly (the backend's guards stay in force)."""
        raise NotImplementedError

    def tamper_sql(self, url: str, sql: str) -> None:
        """Run one statement directly after removing the audit table's append-only guard."""
        raise NotImplementedError

    @pytest.fixture
    def storage_kernel(self) -> Any:
        """The kernel backends are opened through (override to hold only your plugin)."""
        return kernel_with(discover=True)

    # --- fixtures --------------------------------------------------------------------------

    @pytest.fixture
    def open_backend(self, storage_kernel: Any, backend_url: str) -> Iterator[Callable[[], Any]]:
        """``open_backend()``: one more connection to the test database, closed at the end."""
        opened: list[Any] = []

        def open_() -> Any:
            backend = storage_kernel.open_storage(backend_url)
            opened.append(backend)
            return backend

        yield open_
        for backend in opened:
            backend.close()

    @pytest.fixture
    def backend(self, open_backend: Callable[[], Any]) -> Any:
        return open_backend()

    @pytest.fixture
    def sample(self, backend: Any) -> Any:
        backend.index(sample_records())
        return backend

    # --- lifecycle -------------------------------------------------------------------------

    def test_opens_through_the_kernel_and_follows_the_protocol(self, backend: Any, backend_url: str,
                                                               storage_kernel: Any) -> None:
        assert isinstance(backend, Backend)
        assert backend.url == backend_url
        assert storage_kernel.active("storage", backend_url.split("://")[0].lower()) is not None

    def test_schema_version_is_stable_across_reopens(self, open_backend: Callable[[], Any]) -> None:
        first = open_backend()
        version = first.schema_version()
        assert isinstance(version, int) and version >= 1
        first.index(sample_records())
        first.close()
        for _ in range(3):  # migrations run again on every open and must change nothing
            again = open_backend()
            assert again.schema_version() == version
            assert again.count("instance") == 10
            again.close()

    def test_everything_persists_across_reopen(self, open_backend: Callable[[], Any]) -> None:
        first = open_backend()
        first.index(sample_records())
        first.audit(events(3))
        first.uid_map_put({"1.2.3": "2.25.1"})
        first.date_shift_put("PID-1", -12)
        job = first.job_start("ingest", {"root": "/archive"})
        first.job_mark_done(job.id, ["/archive/a.dcm"])
        first.add_findings([Finding(sop_instance_uid="1.2.3", tag="(0010,0010)", rule="name", job_id=job.id)])
        first.close()
        again = open_backend()
        assert [again.count(level) for level in ("patient", "study", "series", "instance")] == [3, 4, 6, 10]
        assert again.verify_audit().checked == 3
        assert again.uid_map_get(["1.2.3"]) == {"1.2.3": "2.25.1"}
        assert again.date_shift_get("PID-1") == -12
        assert again.job_done_items(job.id) == {"/archive/a.dcm"}
        assert len(again.findings(job_id=job.id)) == 1

    def test_calls_after_close_are_storage_errors(self, open_backend: Callable[[], Any]) -> None:
        backend = open_backend()
        backend.close()
        backend.close()  # twice is fine
        with pytest.raises(StorageError):
            backend.count("instance")

    # --- indexing --------------------------------------------------------------------------

    def test_index_builds_the_hierarchy_with_counts(self, sample: Any) -> None:
        assert [sample.count(level) for level in ("patient", "study", "series", "instance")] == [3, 4, 6, 10]
        patient = sample.query("patient", {"PatientID": "PID-1"})[0]
        assert (patient["NumberOfPatientRelatedStudies"], patient["NumberOfPatientRelatedSeries"],
                patient["NumberOfPatientRelatedInstances"]) == (2, 3, 6)
        study = sample.query("study", {"StudyInstanceUID": study_uid(1, 1)})[0]
        assert (study["NumberOfStudyRelatedSeries"], study["NumberOfStudyRelatedInstances"]) == (2, 4)
        assert study["ModalitiesInStudy"] == "CT\\SR"
        series = sample.query("series", {"SeriesInstanceUID": series_uid(1, 1, 1)})[0]
        assert series["NumberOfSeriesRelatedInstances"] == 3

    def test_rows_name_their_parents_and_have_typed_values(self, sample: Any) -> None:
        study = sample.query("study", {"StudyInstanceUID": study_uid(1, 1)})[0]
        # C-FIND study-root answers carry the patient's attributes.
        assert (study["PatientID"], study["PatientName"], study["PatientBirthDate"]) == (
            "PID-1", "DOE^JOHN", "19610704")
        assert study["StudyDate"] == "20240105" and study["StudyTime"] == "0930"
        series = sample.query("series", {"SeriesInstanceUID": series_uid(1, 1, 2)})[0]
        assert (series["PatientID"], series["StudyInstanceUID"], series["Modality"]) == ("PID-1", study_uid(1, 1), "SR")
        assert series["SeriesNumber"] == 2
        instance = sample.query("instance", {"SOPInstanceUID": sop_uid(1, 1, 1, 2)})[0]
        assert (instance["PatientID"], instance["StudyInstanceUID"], instance["SeriesInstanceUID"]) == (
            "PID-1", study_uid(1, 1), series_uid(1, 1, 1))
        assert (instance["InstanceNumber"], instance["Rows"], instance["Columns"]) == (2, 512, 512)
        assert instance["location"] == "/archive/p1/s1/se1/2.dcm"
        assert (instance["size"], instance["mtime_ns"]) == (4096, MTIME_NS)
        assert instance["transfer_syntax_uid"] == EXPLICIT_VR_LITTLE_ENDIAN
        assert instance["status"] == "indexed"
        assert instance["BodyPartExamined"] == "CHEST" and instance["IssuerOfPatientID"] == ""

    def test_absent_values_are_empty_text_or_none(self, backend: Any) -> None:
        backend.index([index_record(StudyDescription="", InstanceNumber="", PatientID="", Rows="not a number")])
        row = backend.query("instance")[0]
        assert row["StudyDescription"] == "" and row["PatientID"] == ""
        assert row["InstanceNumber"] is None and row["Rows"] is None

    def test_fields_restrict_the_keys_but_keep_the_level_keys(self, sample: Any) -> None:
        rows = sample.query("instance", fields=["location", "Modality"], limit=1)
        assert set(rows[0]) == {"PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                                "location", "Modality"}
        rows = sample.query("study", fields=["NumberOfStudyRelatedInstances"])
        assert set(rows[0]) == {"PatientID", "StudyInstanceUID", "NumberOfStudyRelatedInstances"}
        with pytest.raises(StorageError, match="Nonsense"):
            sample.query("study", fields=["Nonsense"])

    def test_reindexing_a_moved_file_updates_it(self, sample: Any) -> None:
        moved = index_record(1, 1, 1, 1, location="/moved/1.dcm", size=5000, mtime_ns=MTIME_NS + 1,
                             digest="ab" * 32, **_SAMPLE_PATIENTS[1], **_SAMPLE_STUDIES[0][2])
        sample.index([moved])
        assert sample.count("instance") == 10
        stored = sample.stored_files([sop_uid(1, 1, 1, 1)])[sop_uid(1, 1, 1, 1)]
        assert (stored.location, stored.size, stored.mtime_ns, stored.digest) == (
            "/moved/1.dcm", 5000, MTIME_NS + 1, "ab" * 32)
        assert "/archive/p1/s1/se1/1.dcm" not in sample.files_under("/archive/")
        assert sample.files_under("/moved/") == {"/moved/1.dcm": (5000, MTIME_NS + 1)}

    def test_reindexing_updates_upper_levels_from_the_newest_record(self, sample: Any) -> None:
        sample.index([index_record(1, 1, 1, 1, PatientName="DOE^JOHN^Q", PatientBirthDate="19610704",
                                   StudyDescription="HEAD", SeriesDescription="CORONAL",
                                   **{k: v for k, v in _SAMPLE_STUDIES[0][2].items() if k != "StudyDescription"})])
        study = sample.query("study", {"StudyInstanceUID": study_uid(1, 1)})[0]
        assert study["StudyDescription"] == "HEAD" and study["PatientName"] == "DOE^JOHN^Q"
        assert sample.query("series", {"SeriesInstanceUID": series_uid(1, 1, 1)})[0]["SeriesDescription"] == "CORONAL"
        assert sample.count("patient") == 3 and sample.count("study") == 4

    def test_newest_record_in_a_batch_wins(self, backend: Any) -> None:
        backend.index([index_record(1, 1, 1, 1, StudyDescription="FIRST"),
                       index_record(1, 1, 1, 2, StudyDescription="SECOND")])
        assert backend.query("study")[0]["StudyDescription"] == "SECOND"

    def test_a_study_whose_patient_changes_is_reparented(self, sample: Any) -> None:
        # Study (3, 1) is corrected to belong to patient 2: patient 3 is left empty and goes.
        sample.index([index_record(3, 1, 1, 1, Modality="US", PatientID="PID-2", **_SAMPLE_PATIENTS[2],
                                   **_SAMPLE_STUDIES[3][2])])
        assert sample.count("patient") == 2
        assert sample.count("patient", {"PatientID": "PID-3"}) == 0
        assert sample.query("study", {"StudyInstanceUID": study_uid(3, 1)})[0]["PatientID"] == "PID-2"
        assert sample.query("patient", {"PatientID": "PID-2"})[0]["NumberOfPatientRelatedStudies"] == 2

    def test_an_instance_moved_to_another_series_leaves_no_empty_series(self, sample: Any) -> None:
        record = index_record(1, 1, 2, 1, Modality="SR", **_SAMPLE_PATIENTS[1], **_SAMPLE_STUDIES[0][2])
        moved = IndexRecord(attributes={**record.attributes, "SeriesInstanceUID": series_uid(1, 1, 1)},
                            location=record.location, size=record.size)
        sample.index([moved])
        assert sample.count("series") == 5
        assert sample.count("instance", {"SeriesInstanceUID": series_uid(1, 1, 1)}) == 4

    def test_patients_are_told_apart_by_issuer(self, backend: Any) -> None:
        backend.index([index_record(1, 1, IssuerOfPatientID="HOSP-A"),
                       index_record(2, 1, PatientID="PID-1", IssuerOfPatientID="HOSP-B")])
        rows = backend.query("patient")
        assert [(row["PatientID"], row["IssuerOfPatientID"]) for row in rows] == [
            ("PID-1", "HOSP-A"), ("PID-1", "HOSP-B")]
        assert backend.remove("patient", "PID-1") == 2
        assert backend.count("patient") == 0

    def test_empty_batches_and_empty_patient_ids_are_fine(self, backend: Any) -> None:
        backend.index([])
        backend.index([index_record(PatientID="")])
        assert backend.query("patient")[0]["PatientID"] == ""

    def test_a_record_without_uids_is_refused_and_nothing_of_its_batch_is_written(self, backend: Any) -> None:
        with pytest.raises(StorageError):
            backend.index([index_record(1, 1, 1, 1), index_record(1, 1, 1, 2, SOPInstanceUID="")])
        assert backend.count("instance") == 0

    def test_error_messages_hold_no_patient_data(self, backend: Any) -> None:
        planted = {key: PLANTED_PHI[key] for key in ("PatientName", "PatientID", "PatientBirthDate",
                                                     "OtherPatientIDs", "AccessionNumber")}
        failures = []
        for broken in ({"StudyInstanceUID": ""}, {"SeriesInstanceUID": ""}):
            with pytest.raises(StorageError) as caught:
                backend.index([index_record(**planted, **broken)])
            failures.append(str(caught.value))
        with pytest.raises(StorageError) as caught:
            backend.index([IndexRecord(attributes=index_record(**planted).attributes,
                                       location="/x.dcm", size="PLANTED^PATIENT^NAME")])  # type: ignore[arg-type]
        failures.append(str(caught.value))
        for filters in ({"PatientBirthDate": f"{PLANTED_PHI['PatientBirthDate']}-{PLANTED_PHI['PatientName']}"},
                        {"SeriesNumber": PLANTED_PHI["PatientName"]}):
            with pytest.raises(StorageError) as caught:
                backend.query("series", filters)
            failures.append(str(caught.value))
        for message in failures:
            for value in planted.values():
                assert value not in message, message

    # --- matching --------------------------------------------------------------------------

    def _keys(self, backend: Any, level: str, filters: dict[str, str]) -> list[str]:
        key = {"patient": "PatientID", "study": "StudyInstanceUID", "series": "SeriesInstanceUID",
               "instance": "SOPInstanceUID"}[level]
        rows = backend.query(level, filters)
        assert backend.count(level, filters) == len(rows)
        return [row[key] for row in rows]

    def test_single_value_matching_is_exact_and_case_sensitive(self, sample: Any) -> None:
        assert self._keys(sample, "patient", {"PatientName": "DOE^JOHN"}) == ["PID-1"]
        assert self._keys(sample, "patient", {"PatientName": "doe^john"}) == []
        assert self._keys(sample, "patient", {"PatientName": "DOE"}) == []
        assert self._keys(sample, "study", {"StudyDescription": "CHEST"}) == [study_uid(3, 1)]

    def test_wildcards_are_case_sensitive(self, sample: Any) -> None:
        assert self._keys(sample, "patient", {"PatientName": "DOE*"}) == ["PID-1"]
        assert self._keys(sample, "patient", {"PatientName": "doe*"}) == ["PID-2"]
        assert self._keys(sample, "patient", {"PatientName": "D?E^J*N"}) == ["PID-1"]
        assert self._keys(sample, "patient", {"PatientName": "*^J*"}) == ["PID-1"]
        assert self._keys(sample, "study", {"StudyDescription": "*EST"}) == [study_uid(3, 1)]

    def test_pattern_characters_of_the_database_are_literal(self, sample: Any) -> None:
        # '%' and '_' are LIKE's wildcards, '[' is GLOB's, '!' a common escape character.
        assert self._keys(sample, "study", {"AccessionNumber": "ACC-100%_*"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"AccessionNumber": "ACC-100%_A"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"AccessionNumber": "ACC-1__*"}) == []
        assert self._keys(sample, "study", {"AccessionNumber": "ACC-100??A"}) == [study_uid(1, 1), study_uid(1, 2)]
        assert self._keys(sample, "study", {"StudyDescription": "HEAD [*"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"StudyDescription": "*[CONTRAST]"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"StudyDescription": "*O!"}) == [study_uid(1, 2)]
        assert self._keys(sample, "study", {"StudyDescription": "*O!!"}) == []

    def test_universal_matching(self, sample: Any) -> None:
        for filters in ({}, {"PatientName": ""}, {"PatientName": "*"}, {"StudyDate": ""},
                        {"StudyDate": "-"}, {"StudyInstanceUID": ""}, {"ModalitiesInStudy": ""}):
            assert len(self._keys(sample, "study", filters)) == 4, filters
        assert sample.count("instance", {"SeriesNumber": ""}) == 10

    def test_uid_lists(self, sample: Any) -> None:
        both = f"{study_uid(1, 2)}\\{study_uid(2, 1)}\\1.2.3.999"
        assert self._keys(sample, "study", {"StudyInstanceUID": both}) == [study_uid(1, 2), study_uid(2, 1)]
        assert self._keys(sample, "study", {"StudyInstanceUID": study_uid(2, 1)}) == [study_uid(2, 1)]
        assert len(self._keys(sample, "instance", {"SOPInstanceUID": "\\".join(
            sop_uid(1, 1, 1, n) for n in (1, 2, 3))})) == 3

    def test_date_ranges_closed_and_open(self, sample: Any) -> None:
        assert self._keys(sample, "study", {"StudyDate": "20240101-20240331"}) == [study_uid(1, 1), study_uid(1, 2)]
        assert self._keys(sample, "study", {"StudyDate": "20240105-20240105"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"StudyDate": "20240106-"}) == [study_uid(1, 2)]
        assert self._keys(sample, "study", {"StudyDate": "-20231231"}) == [study_uid(2, 1)]
        assert self._keys(sample, "study", {"StudyDate": "20240105"}) == [study_uid(1, 1)]
        # A malformed stored date is kept and matches itself, but is in no range.
        assert len(self._keys(sample, "study", {"StudyDate": "19000101-29991231"})) == 3
        assert self._keys(sample, "study", {"StudyDate": "2024XX01"}) == [study_uid(3, 1)]
        with pytest.raises(StorageError, match="StudyDate"):
            sample.query("study", {"StudyDate": "2024-01-01"})

    def test_time_ranges_with_partial_times(self, sample: Any) -> None:
        # Stored: 0930, 141530.5, 2359, 10 (10:00).
        assert self._keys(sample, "study", {"StudyTime": "0900-1000"}) == [study_uid(1, 1), study_uid(3, 1)]
        assert self._keys(sample, "study", {"StudyTime": "14-"}) == [study_uid(1, 2), study_uid(2, 1)]
        assert self._keys(sample, "study", {"StudyTime": "-0930"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"StudyTime": "141530-141530.6"}) == [study_uid(1, 2)]
        assert self._keys(sample, "study", {"StudyTime": "1415"}) == [study_uid(1, 2)]
        assert self._keys(sample, "study", {"StudyTime": "235900.000000-"}) == [study_uid(2, 1)]
        assert self._keys(sample, "study", {"StudyTime": "09:30-09:45"}) == [study_uid(1, 1)]

    def test_integer_keys_match_numerically(self, sample: Any) -> None:
        assert self._keys(sample, "series", {"SeriesNumber": "2"}) == [series_uid(1, 1, 2), series_uid(2, 1, 2)]
        assert self._keys(sample, "series", {"SeriesNumber": "02"}) == [series_uid(1, 1, 2), series_uid(2, 1, 2)]
        assert len(self._keys(sample, "instance", {"InstanceNumber": "3"})) == 1
        assert len(self._keys(sample, "instance", {"Rows": "512", "Columns": "512"})) == 10
        with pytest.raises(StorageError, match="SeriesNumber"):
            sample.query("series", {"SeriesNumber": "two"})

    def test_modalities_in_study(self, sample: Any) -> None:
        assert self._keys(sample, "study", {"ModalitiesInStudy": "CT"}) == [study_uid(1, 1), study_uid(2, 1)]
        assert self._keys(sample, "study", {"ModalitiesInStudy": "MR"}) == [study_uid(1, 2)]
        assert self._keys(sample, "study", {"ModalitiesInStudy": "MR\\US"}) == [study_uid(1, 2), study_uid(3, 1)]
        assert self._keys(sample, "study", {"ModalitiesInStudy": "S*"}) == [study_uid(1, 1)]
        assert self._keys(sample, "study", {"ModalitiesInStudy": "XA"}) == []
        rows = sample.query("study", {"ModalitiesInStudy": "CT"})
        assert [row["ModalitiesInStudy"] for row in rows] == ["CT\\SR", "CT\\PR"]

    def test_computed_counts_can_be_matched(self, sample: Any) -> None:
        assert self._keys(sample, "study", {"NumberOfStudyRelatedSeries": "2"}) == [study_uid(1, 1), study_uid(2, 1)]
        assert self._keys(sample, "patient", {"NumberOfPatientRelatedInstances": "6"}) == ["PID-1"]
        assert self._keys(sample, "series", {"NumberOfSeriesRelatedInstances": "1"}) == [
            series_uid(1, 1, 2), series_uid(2, 1, 2), series_uid(3, 1, 1)]

    def test_filters_on_upper_levels(self, sample: Any) -> None:
        assert len(self._keys(sample, "series", {"PatientName": "DOE^JOHN"})) == 3
        assert len(self._keys(sample, "instance", {"StudyDate": "20240320"})) == 2
        assert len(self._keys(sample, "instance", {"Modality": "CT"})) == 5
        assert len(self._keys(sample, "instance", {"PatientBirthDate": "-19700101", "Modality": "CT"})) == 3
        assert self._keys(sample, "study", {"PatientBirthDate": "19800101-19801231"}) == [study_uid(2, 1)]

    def test_instance_file_fields_can_be_matched(self, sample: Any) -> None:
        assert len(self._keys(sample, "instance", {"location": "/archive/p1/*"})) == 6
        assert len(self._keys(sample, "instance", {"status": "indexed"})) == 10

    def test_unknown_and_lower_level_keys_are_errors_naming_them(self, sample: Any) -> None:
        with pytest.raises(StorageError, match="NoSuchKeyword"):
            sample.query("study", {"NoSuchKeyword": "x"})
        with pytest.raises(StorageError, match="SOPInstanceUID"):
            sample.query("study", {"SOPInstanceUID": "1.2.3"})
        with pytest.raises(StorageError, match="Modality"):
            sample.count("patient", {"Modality": "CT"})
        with pytest.raises(StorageError, match="NumberOfSeriesRelatedInstances"):
            sample.query("study", {"NumberOfSeriesRelatedInstances": "1"})
        with pytest.raises(StorageError, match="galaxy"):
            sample.query("galaxy")

    # --- paging ----------------------------------------------------------------------------

    def test_paging_is_stable_and_complete(self, sample: Any) -> None:
        everything = sample.query("instance")
        assert sample.query("instance") == everything
        pages = [sample.query("instance", limit=3, offset=offset) for offset in range(0, 12, 3)]
        assert [len(page) for page in pages] == [3, 3, 3, 1]
        assert [row for page in pages for row in page] == everything
        assert sample.query("instance", offset=8) == everything[8:]
        assert sample.query("instance", limit=0) == []
        assert sample.query("instance", limit=5, offset=50) == []
        filtered = sample.query("instance", {"Modality": "CT"}, limit=2, offset=2)
        assert filtered == sample.query("instance", {"Modality": "CT"})[2:4]
        with pytest.raises(StorageError):
            sample.query("instance", limit=-1)

    # --- files ------------------------------------------------------------------------------

    def test_stored_files(self, backend: Any) -> None:
        backend.index([index_record(1, 1, 1, 1, digest="0f" * 32), index_record(1, 1, 1, 2)])
        found = backend.stored_files([sop_uid(1, 1, 1, 1), sop_uid(1, 1, 1, 2), "1.2.3.404"])
        assert set(found) == {sop_uid(1, 1, 1, 1), sop_uid(1, 1, 1, 2)}
        first = found[sop_uid(1, 1, 1, 1)]
        assert (first.sop_instance_uid, first.location, first.size, first.mtime_ns, first.digest) == (
            sop_uid(1, 1, 1, 1), "/archive/p1/s1/se1/1.dcm", 4096, MTIME_NS, "0f" * 32)
        assert found[sop_uid(1, 1, 1, 2)].digest is None
        assert backend.stored_files([]) == {}

    def test_files_under_a_prefix_takes_it_literally(self, backend: Any) -> None:
        locations = ["/data/a_b/1.dcm", "/data/axb/2.dcm", "/data/100%/3.dcm", "/data/100x/4.dcm", "/other/5.dcm"]
        backend.index([index_record(1, 1, 1, n, location=location, size=n, mtime_ns=10 * n)
                       for n, location in enumerate(locations, start=1)])
        assert backend.files_under("/data/a_b/") == {"/data/a_b/1.dcm": (1, 10)}
        assert backend.files_under("/data/100%") == {"/data/100%/3.dcm": (3, 30)}
        assert set(backend.files_under("/data/")) == set(locations[:4])
        assert set(backend.files_under("")) == set(locations)
        assert backend.files_under("/nowhere/") == {}

    # --- removal ---------------------------------------------------------------------------

    def test_remove_each_level_and_prune_empty_parents(self, sample: Any) -> None:
        assert sample.remove("instance", sop_uid(1, 1, 2, 1)) == 1  # the only SR: its series goes
        assert sample.count("series") == 5 and sample.count("study") == 4
        assert sample.remove("series", series_uid(1, 1, 1)) == 3  # study (1, 1) is now empty
        assert sample.count("study") == 3 and sample.count("patient") == 3
        assert sample.remove("study", study_uid(1, 2)) == 2  # and patient 1 with it
        assert sample.count("patient") == 2
        assert sample.remove("patient", "PID-2") == 3
        assert sample.count("study") == 1 and sample.count("instance") == 1
        assert sample.remove("instance", sop_uid(3, 1, 1, 1)) == 1
        assert [sample.count(level) for level in ("patient", "study", "series", "instance")] == [0, 0, 0, 0]

    def test_remove_unknown_is_zero_and_a_bad_level_is_an_error(self, sample: Any) -> None:
        assert sample.remove("study", "1.2.3.404") == 0
        with pytest.raises(StorageError, match="galaxy"):
            sample.remove("galaxy", "1.2.3")
        assert sample.count("instance") == 10

    # --- transactions ----------------------------------------------------------------------

    def test_an_exception_inside_a_transaction_leaves_nothing(self, open_backend: Callable[[], Any]) -> None:
        backend = open_backend()
        with pytest.raises(RuntimeError, match="boom"):
            with backend.transaction():
                backend.index(sample_records())
                backend.audit(events(2))
                backend.uid_map_put({"1.2.3": "2.25.1"})
                backend.date_shift_put("PID-1", 3)
                backend.job_start("ingest", {})
                with backend.transaction():  # nested: joins the outer one
                    backend.add_findings([Finding(sop_instance_uid="1.2.3", tag="(0010,0010)", rule="r")])
                assert backend.count("instance") == 10  # visible inside
                raise RuntimeError("boom")
        for view in (backend, open_backend()):
            assert view.count("instance") == 0 and view.count("patient") == 0
            assert view.audit_rows() == [] and view.verify_audit().checked == 0
            assert view.uid_map_get(["1.2.3"]) == {} and view.date_shift_get("PID-1") is None
            assert view.jobs() == [] and view.findings() == []

    def test_a_transaction_commits_everything_together(self, open_backend: Callable[[], Any]) -> None:
        backend = open_backend()
        with backend.transaction():
            backend.index(sample_records()[:5])
            with backend.transaction():
                backend.index(sample_records()[5:])
            backend.audit(events(1))
        other = open_backend()
        assert other.count("instance") == 10 and other.verify_audit().checked == 1

    def test_a_failed_nested_block_undoes_only_itself(self, backend: Any) -> None:
        with backend.transaction():
            backend.index(sample_records()[:4])
            try:
                with backend.transaction():
                    backend.index(sample_records()[4:])
                    raise RuntimeError("inner")
            except RuntimeError:
                pass
            backend.audit(events(1))
        assert backend.count("instance") == 4 and backend.verify_audit().checked == 1

    # --- audit trail -----------------------------------------------------------------------

    def test_audit_appends_a_hash_chain(self, backend: Any) -> None:
        given = AuditEvent(actor="deid", action="deid.apply", sop_instance_uid="1.2.3",
                           detail={"profile": "basic", "count": 3, "nested": {"b": [1, 2]}},
                           at="2024-03-15T10:00:00+00:00")
        backend.audit(events(2))
        backend.audit([given])
        backend.audit([])
        rows = backend.audit_rows()
        assert [row.sequence for row in rows] == [1, 2, 3]
        assert rows[0].previous_hash == GENESIS_HASH
        for before, row in zip([None, *rows[:-1]], rows, strict=True):
            if before is not None:
                assert row.previous_hash == before.hash
            assert row.hash == chain_hash(row.previous_hash, row.sequence, row.event)
        assert rows[2].event == given
        filled = datetime.fromisoformat(rows[0].event.at)
        assert filled.utcoffset() == timedelta(0)
        assert rows[0].event.detail == {"n": 0, "note": "ok"}
        assert [row.sequence for row in backend.audit_rows(after=1)] == [2, 3]
        assert [row.sequence for row in backend.audit_rows(after=1, limit=1)] == [2]
        verification = backend.verify_audit()
        assert (verification.ok, verification.checked, verification.broken_at) == (True, 3, None)

    def test_an_empty_audit_trail_verifies(self, backend: Any) -> None:
        verification = backend.verify_audit()
        assert (verification.ok, verification.checked) == (True, 0)

    def test_the_audit_table_refuses_updates_and_deletes(self, backend: Any, backend_url: str) -> None:
        backend.audit(events(3))
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            self.raw_sql(backend_url, "UPDATE audit SET actor = 'mallory' WHERE sequence = 2")
        with pytest.raises(Exception):  # noqa: B017
            self.raw_sql(backend_url, "DELETE FROM audit WHERE sequence = 3")
        assert backend.verify_audit().ok and backend.verify_audit().checked == 3

    def _tampered(self, backend: Any, url: str, sql: str) -> Any:
        backend.audit(events(5))
        assert backend.verify_audit().ok
        self.tamper_sql(url, sql)
        verification = backend.verify_audit()
        assert not verification.ok and verification.reason
        return verification

    def test_an_edited_audit_row_is_found(self, backend: Any, backend_url: str) -> None:
        verification = self._tampered(backend, backend_url,
                                      """UPDATE audit SET detail = '{"n":99}' WHERE sequence = 3""")
        assert (verification.broken_at, verification.checked) == (3, 2)
        assert "hash" in verification.reason

    def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(self, backend: Any, backend_url: str) -> None:
        backend.audit(events(5))
        row = backend.audit_rows(after=2, limit=1)[0]
        forged_event = AuditEvent(actor="mallory", action=row.event.action, sop_instance_uid=row.event.sop_instance_uid,
                                  detail=dict(row.event.detail), at=row.event.at)
        forged = chain_hash(row.previous_hash, 3, forged_event)
        self.tamper_sql(backend_url, f"UPDATE audit SET actor = 'mallory', hash = '{forged}' WHERE sequence = 3")
        verification = backend.verify_audit()
        assert (verification.ok, verification.broken_at) == (False, 4)
        assert "link" in verification.reason

    def test_a_deleted_audit_row_is_found(self, backend: Any, backend_url: str) -> None:
        verification = self._tampered(backend, backend_url, "DELETE FROM audit WHERE sequence = 2")
        assert (verification.broken_at, verification.checked) == (2, 1)
        assert "missing" in verification.reason or "gap" in verification.reason

    def test_an_inserted_audit_row_is_found(self, backend: Any, backend_url: str) -> None:
        backend.audit(events(5))
        last = backend.audit_rows()[-1]
        self.tamper_sql(backend_url, "INSERT INTO audit (sequence, at, actor, action, sop_instance_uid, detail, "
                                     f"previous_hash, hash) VALUES (6, '2024-01-01T00:00:00+00:00', 'mallory', "
                                     f"'cover.up', '', '{{}}', '{last.hash}', '{'f' * 64}')")
        verification = backend.verify_audit()
        assert (verification.ok, verification.broken_at, verification.checked) == (False, 6, 5)

    def test_audit_appends_continue_the_chain_after_reopen(self, open_backend: Callable[[], Any]) -> None:
        first = open_backend()
        first.audit(events(2))
        first.close()
        again = open_backend()
        again.audit(events(2, start=2))
        assert [row.sequence for row in again.audit_rows()] == [1, 2, 3, 4]
        assert again.verify_audit().checked == 4

    def test_concurrent_audit_appends_keep_one_chain(self, open_backend: Callable[[], Any]) -> None:
        connections = [open_backend() for _ in range(3)]
        failures: list[BaseException] = []
        per_worker = [1 + round % 2 for round in range(12)]

        def work(backend: Any, worker: int) -> None:
            try:
                for round, size in enumerate(per_worker):
                    backend.audit([AuditEvent(actor=f"worker-{worker}", action="tick", detail={"round": round})] * size)
            except BaseException as err:  # noqa: BLE001 - reported below
                failures.append(err)

        threads = [threading.Thread(target=work, args=(connections[n % 3], n)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        total = 6 * sum(per_worker)
        rows = connections[0].audit_rows()
        assert [row.sequence for row in rows] == list(range(1, total + 1))
        verification = connections[1].verify_audit()
        assert (verification.ok, verification.checked) == (True, total)
        for worker in range(6):  # each worker's appends kept their order
            rounds = [row.event.detail["round"] for row in rows if row.event.actor == f"worker-{worker}"]
            assert rounds == sorted(rounds)

    def test_threads_share_one_backend(self, backend: Any) -> None:
        failures: list[BaseException] = []

        def work(worker: int) -> None:
            try:
                for round in range(5):
                    backend.index([index_record(worker, round, 1, n) for n in range(1, 4)])
                    backend.query("study", {"PatientID": f"PID-{worker}"})
            except BaseException as err:  # noqa: BLE001
                failures.append(err)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert backend.count("instance") == 4 * 5 * 3 and backend.count("patient") == 4

    # --- tables other plugins need -----------------------------------------------------------

    def test_uid_map_keeps_the_first_mapping(self, backend: Any) -> None:
        assert backend.uid_map_get(["1.2.3"]) == {}
        backend.uid_map_put({"1.2.3": "2.25.1"})
        backend.uid_map_put({"1.2.3": "2.25.9", "1.2.4": "2.25.2"})
        backend.uid_map_put({})
        assert backend.uid_map_get(["1.2.3", "1.2.4", "1.2.5"]) == {"1.2.3": "2.25.1", "1.2.4": "2.25.2"}
        backend.uid_map_put({"1.2.3": "2.25.7"}, namespace="project-b")
        assert backend.uid_map_get(["1.2.3"], namespace="project-b") == {"1.2.3": "2.25.7"}
        assert backend.uid_map_get(["1.2.3"]) == {"1.2.3": "2.25.1"}
        assert backend.uid_map_get([]) == {}
        many = {f"1.2.{n}.1": f"2.25.{n}" for n in range(1500)}  # longer than one IN list
        backend.uid_map_put(many, namespace="bulk")
        assert backend.uid_map_get(list(many), namespace="bulk") == many

    def test_date_shift_first_one_wins(self, backend: Any) -> None:
        assert backend.date_shift_get("PID-1") is None
        assert backend.date_shift_put("PID-1", -12) == -12
        assert backend.date_shift_put("PID-1", 40) == -12
        assert backend.date_shift_get("PID-1") == -12
        assert backend.date_shift_put("PID-1", 5, namespace="other") == 5
        assert backend.date_shift_get("PID-2") is None

    def test_findings(self, backend: Any) -> None:
        job = backend.job_start("privacy-audit", {"root": "/a"})
        found = [Finding(sop_instance_uid="1.2.3", tag="(0010,0010)", rule="patient-name", job_id=job.id,
                         note="in header"),
                 Finding(sop_instance_uid="1.2.3", tag="(0040,0275)>(0032,1060)", rule="free-text", job_id=job.id),
                 Finding(sop_instance_uid="1.2.4", tag="(0010,0020)", rule="patient-id")]
        backend.add_findings(found)
        backend.add_findings([])
        assert backend.findings() == found
        assert backend.findings(job_id=job.id) == found[:2]
        assert backend.findings(sop_instance_uid="1.2.4") == found[2:]
        assert backend.findings(job_id=job.id, sop_instance_uid="1.2.4") == []

    def test_jobs_resume_by_kind_and_exact_params(self, backend: Any) -> None:
        params = {"root": "/archive", "options": {"recurse": True, "skip": ["*.tmp"]}}
        first = backend.job_start("ingest", params)
        assert (first.kind, first.params, first.status, first.finished_at) == ("ingest", params, "running", "")
        assert first.started_at
        backend.job_mark_done(first.id, ["/archive/a.dcm", "/archive/b.dcm"])
        backend.job_mark_done(first.id, ["/archive/b.dcm", "/archive/c.dcm"])
        assert backend.job_done_items(first.id) == {"/archive/a.dcm", "/archive/b.dcm", "/archive/c.dcm"}
        reordered = {"options": {"skip": ["*.tmp"], "recurse": True}, "root": "/archive"}
        assert backend.last_job("ingest", reordered).id == first.id
        assert backend.last_job("ingest", {"root": "/archive"}) is None
        assert backend.last_job("export", params) is None
        backend.job_finish(first.id, "failed")
        second = backend.job_start("ingest", params)
        other = backend.job_start("export", {"to": "pacs"})
        assert backend.job_done_items(second.id) == set()
        assert backend.last_job("ingest", params).id == second.id
        finished = backend.jobs("ingest")[0]
        assert (finished.status, bool(finished.finished_at)) == ("failed", True)
        assert [job.id for job in backend.jobs()] == [first.id, second.id, other.id]
        assert [job.id for job in backend.jobs("export")] == [other.id]
        backend.job_finish(second.id)
        assert backend.jobs("ingest")[1].status == "done"
        with pytest.raises(StorageError):
            backend.job_finish(10_000)
        with pytest.raises(StorageError):
            backend.job_finish(second.id, "exploded")

    # --- scale ------------------------------------------------------------------------------

    @pytest.mark.slow
    def test_counts_on_an_index_of_100000_instances(self, open_backend: Callable[[], Any]) -> None:
        backend = open_backend()
        for first_study in range(0, 1000, 50):  # 5,000 instances a batch
            backend.index(synthetic_records(50, first_study=first_study, patients=300))
        backend.close()
        backend = open_backend()
        studies = backend.query("study")
        assert len(studies) == 1000 and backend.count("instance") == 100_000
        assert all(row["NumberOfStudyRelatedSeries"] == 4 and row["NumberOfStudyRelatedInstances"] == 100
                   and row["ModalitiesInStudy"] == "CT\\MR\\PR\\SR" for row in studies)
        assert backend.count("study", {"StudyDate": "20240301-20240331"}) == sum(
            1 for study in range(1000) if study % 12 + 1 == 3)
        assert len(backend.query("study", limit=25, offset=975)) == 25


__all__ = ["StorageBackendContract", "index_record", "sample_records", "synthetic_records"]
