"""shift_value and year_only_value on the text of DA, DT and TM values."""

from __future__ import annotations

import pytest

from gantry_dateshift import MalformedValue, shift_value
from gantry_dateshift.temporal import year_only_value


@pytest.mark.parametrize(("original", "days", "shifted"), [
    ("20200315", -14, "20200301"),
    ("20200301", -1, "20200229"),   # into a leap day
    ("20190301", -1, "20190228"),   # no leap day in 2019
    ("20210101", -1, "20201231"),   # across a year end
    ("20200229", -366, "20190228"),
    ("20200229", 365, "20210228"),
    ("20240131", 30, "20240301"),   # across a short month, forwards
    ("19000301", -1, "19000228"),   # 1900 is not a leap year
    ("20000301", -1, "20000229"),   # 2000 is
    ("20200315", 0, "20200315"),
])
def test_da_moves_by_calendar_days(original, days, shifted):
    assert shift_value("DA", original, days) == shifted


@pytest.mark.parametrize(("original", "days", "shifted"), [
    ("20200301083000", -1, "20200229083000"),
    ("20200301083000.123456+0100", -1, "20200229083000.123456+0100"),
    ("20210101235959.5-0500", -1, "20201231235959.5-0500"),
    ("20200101+0000", -1, "20191231+0000"),
    ("2020030108", -2, "2020022808"),
    ("202003", -20, "202002"),        # year and month only: shifted from the 15th
    ("202003+0100", -10, "202003+0100"),
    ("2020", -30, "2020"),            # year only: shifted from 1 July
    ("2020", -200, "2019"),
    ("20200315120000.000001", 0, "20200315120000.000001"),
])
def test_dt_moves_its_date_and_keeps_time_fraction_offset_and_precision(original, days, shifted):
    assert shift_value("DT", original, days) == shifted


@pytest.mark.parametrize("time", ["10", "1015", "101530", "101530.123456", "235960"])
def test_tm_is_unchanged_by_a_whole_day_shift(time):
    assert shift_value("TM", time, -1234) == time


def test_padding_is_dropped_and_empty_stays_empty():
    assert shift_value("DA", "20200101 ", -1) == "20191231"
    assert shift_value("DA", "", -1) == "" and shift_value("TM", " ", -1) == ""


@pytest.mark.parametrize(("vr", "text"), [
    ("DA", "2020.03.15"), ("DA", "20200230"), ("DA", "2020031"), ("DA", "20200101-20200131"),
    ("DA", "DOE^JOHN"), ("DA", "00000101"),
    ("DT", "20200101240000"), ("DT", "20200101126000"), ("DT", "2020010112+1500"),
    ("DT", "20201301"), ("DT", "2020-01-01T10:00"), ("DT", "20200101120000.1234567"),
    ("TM", "10:15:30"), ("TM", "2400"), ("TM", "1"), ("TM", "101530-0100"),
])
def test_malformed_values_raise(vr, text):
    with pytest.raises(MalformedValue):
        shift_value(vr, text, -1)


def test_a_shift_beyond_year_9999_or_before_year_1_is_malformed():
    with pytest.raises(MalformedValue, match="1..9999"):
        shift_value("DA", "00010105", -10)
    with pytest.raises(MalformedValue, match="1..9999"):
        shift_value("DT", "99991231", 1)


def test_other_vrs_are_a_programming_error():
    with pytest.raises(ValueError, match="not 'LO'"):
        shift_value("LO", "20200101", -1)


@pytest.mark.parametrize(("vr", "text", "reduced"), [
    ("DA", "20200315", "20200101"),
    ("DT", "20200315101530.25+0100", "20200101"),
    ("DT", "2020", "20200101"),
    ("TM", "101530", "000000"),
    ("TM", "", ""),
])
def test_year_only_keeps_the_year(vr, text, reduced):
    assert year_only_value(vr, text) == reduced
