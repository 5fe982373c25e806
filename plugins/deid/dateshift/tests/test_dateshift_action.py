"""The shift action on elements: one shift per patient, intervals kept, earlier shifts in a real
storage backend preferred, malformed values replaced and noted, the three strategies."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from gantry import DeidError
from gantry_dateshift import shift_value
from gantry_dateshift.action import apply

SECRET = b"site secret for the dateshift tests"

# Malformed values are written on purpose; pydicom warns about them when they are set.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR")


def _days_between(first: str, second: str) -> int:
    return (date(int(second[:4]), int(second[4:6]), int(second[6:8]))
            - date(int(first[:4]), int(first[4:6]), int(first[6:8]))).days


def test_the_keyed_shift_is_the_documented_hmac_into_the_past(context, dated, shift):
    ctx = context(patient_key="PID-1", min_days=30, max_days=3650)
    assert shift(dated(StudyDate="20200315"), "StudyDate", ctx) == shift_value("DA", "20200315", ctx.date_shift_days)
    digest = hmac.new(SECRET, b"dateshift:PID-1", hashlib.sha256).digest()
    assert ctx.date_shift_days == -(30 + int.from_bytes(digest[:8], "big") % 3621)


def test_one_patient_keeps_one_shift_across_files_and_intervals_survive(context, dated, shift):
    # Birth date in one file, two study dates in others, each with its own context (its own instance).
    birth = shift(dated(PatientBirthDate="19640229"), "PatientBirthDate", context())
    first = shift(dated(StudyDate="20200315"), "StudyDate", context())
    second = shift(dated(StudyDate="20210102"), "StudyDate", context())
    assert _days_between(birth, first) == _days_between("19640229", "20200315")
    assert _days_between(first, second) == _days_between("20200315", "20210102")
    assert first != "20200315"


def test_two_patients_get_different_shifts(context, dated, shift):
    shifts = set()
    for key in ("PID-1", "PID-2", "PID-1^HOSPITAL-B"):
        ctx = context(patient_key=key)
        shift(dated(StudyDate="20200315"), "StudyDate", ctx)
        shifts.add(ctx.date_shift_days)
    assert len(shifts) == 3


def test_shifts_of_many_patients_stay_in_range_and_spread_over_it(context, dated, shift):
    shifts = []
    for number in range(1000):
        ctx = context(patient_key=f"PATIENT-{number}", min_days=10, max_days=400)
        shift(dated(StudyDate="20200315"), "StudyDate", ctx)
        shifts.append(ctx.date_shift_days)
    assert all(-400 <= days <= -10 for days in shifts)
    assert len(set(shifts)) > 300  # 391 possible values, 1000 draws
    assert 0.4 < sum(days > -205 for days in shifts) / len(shifts) < 0.6


def test_a_shift_already_stored_for_the_patient_wins(installed_kernel, tmp_path, context, dated, shift):
    backend = installed_kernel.open_storage(f"sqlite:///{tmp_path}/index.db")
    try:
        backend.date_shift_put("PID-1", -7)
        ctx = context(patient_key="PID-1", backend=backend)
        assert shift(dated(StudyDate="20200315"), "StudyDate", ctx) == "20200308"
        assert ctx.date_shift_days == -7
        other = context(patient_key="PID-2", backend=backend)
        shift(dated(StudyDate="20200315"), "StudyDate", other)
        assert other.date_shift_days not in (None, -7)
        assert backend.date_shift_get("PID-2") is None  # the action only reads
    finally:
        backend.close()


def test_the_shift_fixed_earlier_in_the_instance_is_reused(context, dated, shift):
    ctx = context()
    ctx.date_shift_days = -3
    assert shift(dated(ContentDate="20200315"), "ContentDate", ctx) == "20200312"


def test_dt_keeps_its_offset_and_tm_is_kept(context, dated, shift):
    ctx = context()
    dataset = dated(AcquisitionDateTime="20200315101530.123+0100", AcquisitionTime="101530.123")
    shifted = shift(dataset, "AcquisitionDateTime", ctx)
    assert shifted == shift_value("DA", "20200315", ctx.date_shift_days) + "101530.123+0100"
    assert shift(dataset, "AcquisitionTime", ctx) == "101530.123"


def test_each_value_of_a_multi_valued_element_is_shifted(context, dated, shift):
    ctx = context()
    ctx.date_shift_days = -1
    values = shift(dated(CalibrationDate=["20200301", "", "20210101"]), "CalibrationDate", ctx)
    assert list(values) == ["20200229", "", "20201231"]


def test_empty_values_stay_empty_and_fix_no_shift(context, dated, shift):
    ctx = context()
    assert shift(dated(StudyDate=""), "StudyDate", ctx) in ("", None)
    assert ctx.date_shift_days is None and ctx.notes == []


@pytest.mark.parametrize(("keyword", "value", "dummy_of"), [
    ("StudyDate", "2020.03.15", "DA"),
    ("StudyDate", "20200101-20200131", "DA"),
    ("AcquisitionDateTime", "yesterday at ten", "DA"),
    ("StudyTime", "10:15:30", "TM"),
])
def test_a_malformed_value_becomes_a_valid_dummy_and_a_note_without_the_value(
        context, dated, shift, keyword, value, dummy_of):
    ctx = context()
    ctx.date_shift_days = -10
    result = shift(dated(**{keyword: value}), keyword, ctx)
    assert result == ("000000" if dummy_of == "TM" else "19991222")  # the epoch, shifted
    assert len(ctx.notes) == 1 and keyword in ctx.notes[0] and value not in ctx.notes[0]


def test_year_only_keeps_the_year_and_no_shift(context, dated, shift):
    ctx = context(strategy="year-only")
    dataset = dated(StudyDate="20200315", AcquisitionDateTime="20200315101530+0100",
                    StudyTime="101530", PatientBirthDate="19640229x")
    assert shift(dataset, "StudyDate", ctx) == "20200101"
    assert shift(dataset, "AcquisitionDateTime", ctx) == "20200101"
    assert shift(dataset, "StudyTime", ctx) == "000000"
    assert shift(dataset, "PatientBirthDate", ctx) == "20000101" and len(ctx.notes) == 1
    assert ctx.date_shift_days is None


def test_epoch_moves_the_study_date_onto_the_epoch(installed_kernel, tmp_path, context, dated, shift):
    backend = installed_kernel.open_storage(f"sqlite:///{tmp_path}/index.db")
    try:
        first = dated(InstanceCreationDate="20200316", StudyDate="20200315", PatientBirthDate="19600101")
        ctx = context(strategy="epoch", epoch="20000101", backend=backend)
        for keyword in ("InstanceCreationDate", "StudyDate", "PatientBirthDate"):
            shift(first, keyword, ctx)
        assert (first.InstanceCreationDate, first.StudyDate) == ("20000102", "20000101")
        assert _days_between(first.PatientBirthDate, "20000101") == _days_between("19600101", "20200315")
        assert ctx.date_shift_days == _days_between("20200315", "20000101")

        # The runner stores the shift; the patient's next study reuses it rather than re-anchoring.
        backend.date_shift_put("PID-1", ctx.date_shift_days)
        later = context(strategy="epoch", epoch="20000101", backend=backend)
        again = shift(dated(StudyDate="20210315"), "StudyDate", later)
        assert _days_between("20000101", again) == _days_between("20200315", "20210315") == 365
    finally:
        backend.close()


def test_epoch_without_a_study_date_anchors_on_the_element_and_says_so(context, dated, shift):
    ctx = context(strategy="epoch")
    assert shift(dated(ContentDate="20200315", StudyDate="bad"), "ContentDate", ctx) == "20000101"
    assert ctx.notes == ["epoch date shift: no valid StudyDate, anchored on (0008,0023) ContentDate"]


def test_epoch_with_nothing_to_anchor_on_writes_the_epoch(context, dated, shift):
    ctx = context(strategy="epoch", epoch="19990909")
    assert shift(dated(ContentDate="garbage"), "ContentDate", ctx) == "19990909"
    assert ctx.date_shift_days is None and len(ctx.notes) == 1


def test_an_element_that_is_not_a_date_is_an_error_naming_the_tag(context, dated):
    dataset = dated(PatientID="20200315")
    with pytest.raises(DeidError, match=r"\(0010,0020\) PatientID has VR 'LO'"):
        apply(dataset, dataset["PatientID"], context())
    assert dataset.PatientID == "20200315"


def test_the_keyed_shift_needs_the_secret(context, dated, shift):
    with pytest.raises(DeidError, match="secret"):
        shift(dated(StudyDate="20200315"), "StudyDate", context(secret=b""))
