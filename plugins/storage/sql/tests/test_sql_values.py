"""Sortable keys and integers from index text."""

from __future__ import annotations

import pytest

from gantry_sql.schema import COLUMN_OF, column_name
from gantry_sql.values import date_key, datetime_key, integer_of, split_range, time_key


@pytest.mark.parametrize("text, expected", [
    ("7", 7), (" 12 ", 12), ("+3", 3), ("-4", -4), ("007", 7),
    ("", None), ("1.5", None), ("1\\2", None), ("seven", None), ("1_000", None), ("٣", None),
    (str(2**63), None), (str(2**63 - 1), 2**63 - 1),
])
def test_integer_of(text: str, expected: int | None) -> None:
    assert integer_of(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("20240315", "20240315"), ("2024.03.15", "20240315"), (" 20240315 ", "20240315"),
    ("2024031", None), ("20241315", None), ("20240100", None), ("2024-03-15", None), ("", None),
])
def test_date_key(text: str, expected: str | None) -> None:
    assert date_key(text) == expected


@pytest.mark.parametrize("text, lower, upper", [
    ("1030", "103000.000000", "103059.999999"),
    ("10", "100000.000000", "105959.999999"),
    ("103015", "103015.000000", "103015.999999"),
    ("103015.5", "103015.500000", "103015.599999"),
    ("103015.123456", "103015.123456", "103015.123456"),
    ("10:30:15", "103015.000000", "103015.999999"),
    ("2400", None, None), ("1060", None, None), ("1", None, None), ("10301", None, None), ("", None, None),
])
def test_time_key(text: str, lower: str | None, upper: str | None) -> None:
    assert time_key(text) == lower
    assert time_key(text, upper=True) == upper


@pytest.mark.parametrize("text, lower, upper", [
    ("2024", "20240101000000.000000", "20241231235959.999999"),
    ("202403151030", "20240315103000.000000", "20240315103059.999999"),
    ("20240315103015.25+0100", "20240315103015.250000", "20240315103015.259999"),
    ("20241315", None, None), ("20240315+2500", None, None), ("2024031510301", None, None),
])
def test_datetime_key(text: str, lower: str | None, upper: str | None) -> None:
    assert datetime_key(text) == lower
    assert datetime_key(text, upper=True) == upper


@pytest.mark.parametrize("matching, text, expected", [
    ("date", "20240101-20241231", ("20240101", "20241231")),
    ("date", "20240101-", ("20240101", "")),
    ("date", "-20241231", ("", "20241231")),
    ("date", "20240101", None),
    ("time", "1000-1100", ("1000", "1100")),
    ("datetime", "20240101-0500-20240102-0500", ("20240101-0500", "20240102-0500")),
    ("datetime", "20240101120000-0500", None),  # one date-time with its UTC offset
    ("datetime", "2024-2025", ("2024", "2025")),
])
def test_split_range(matching: str, text: str, expected: tuple[str, str] | None) -> None:
    assert split_range(matching, text) == expected


def test_column_names_are_snake_case_and_unique() -> None:
    assert column_name("SOPInstanceUID") == "sop_instance_uid"
    assert column_name("OtherPatientIDs") == "other_patient_ids"
    assert column_name("IssuerOfPatientID") == "issuer_of_patient_id"
    assert column_name("NumberOfFrames") == "number_of_frames"
    names = [column.name for column in COLUMN_OF.values()]
    assert len(names) == len(set(names))
