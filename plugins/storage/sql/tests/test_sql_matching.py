"""DICOM matching turned into SQL conditions, and the dialect's placeholder conversion."""

from __future__ import annotations

import pytest

from gantry import StorageError
from gantry_sql import Dialect
from gantry_sql.matching import Condition, match


class PortableDialect(Dialect):
    paramstyle = "format"


def condition(matching: str, value: str) -> Condition | None:
    key = "c.k" if matching in ("date", "time", "datetime") else None
    return match(matching, value, PortableDialect(), keyword="Key", expression="c.v", key_expression=key)


def test_universal_values_make_no_condition() -> None:
    for matching in ("text", "uid", "int", "date", "time", "datetime"):
        assert condition(matching, "") is None
        assert condition(matching, "*") is None
    assert condition("date", "-") is None
    assert condition("uid", "\\") is None


def test_wildcards_become_an_escaped_like_pattern() -> None:
    assert condition("text", "A*B?") == Condition("c.v LIKE ? ESCAPE '!'", ("A%B_",))
    assert condition("text", "100%_!*") == Condition("c.v LIKE ? ESCAPE '!'", ("100!%!_!!%",))
    assert condition("text", "100%_") == Condition("c.v = ?", ("100%_",))


def test_uid_lists_and_ranges() -> None:
    assert condition("uid", "1.2\\1.3\\1.2") == Condition("c.v IN (?, ?)", ("1.2", "1.3"))
    assert condition("date", "20240101-") == Condition("c.k >= ?", ("20240101",))
    assert condition("time", "10-1130") == Condition("c.k >= ? AND c.k <= ?", ("100000.000000", "113059.999999"))
    assert condition("time", "1030") == Condition("c.k >= ? AND c.k <= ?", ("103000.000000", "103059.999999"))
    assert condition("date", "2024XX01") == Condition("c.v = ?", ("2024XX01",))
    assert condition("int", " 07 ") == Condition("c.v = ?", (7,))


def test_bad_filters_name_the_key_but_not_the_value() -> None:
    for matching, value in (("int", "PLANTED"), ("date", "PLANTED-20240101"), ("time", "-PLANTED")):
        with pytest.raises(StorageError, match="Key") as caught:
            condition(matching, value)
        assert "PLANTED" not in str(caught.value)


def test_placeholders_in_the_format_style() -> None:
    assert PortableDialect().sql("SELECT ? WHERE x IN (?, ?)") == "SELECT %s WHERE x IN (%s, %s)"
    assert Dialect().sql("SELECT ?") == "SELECT ?"
    with pytest.raises(ValueError, match="paramstyle"):
        type("Named", (Dialect,), {"paramstyle": "named"})().sql("SELECT ?")


def test_members_without_a_standard_form_must_be_given() -> None:
    with pytest.raises(NotImplementedError):
        Dialect().distinct_values("x")
    with pytest.raises(NotImplementedError):
        Dialect().append_only_ddl("audit")


def test_default_error_description_holds_no_driver_text() -> None:
    assert Dialect().describe_error(ValueError("duplicate key (patient_name)=(PLANTED)")) == "ValueError"
