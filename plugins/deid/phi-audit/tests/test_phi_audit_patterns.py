"""The text patterns, one by one: what each must catch and what it must leave alone."""

from __future__ import annotations

import pytest

from gantry_phi_audit import patterns
from gantry_phi_audit.settings import AuditSettings

IS_DUMMY = AuditSettings().is_dummy


@pytest.mark.parametrize("text", ["seen 2024-03-15", "on 15/03/2024.", "03-15-2024", "15.03.2024",
                                  "dob 4/7/61", "scan 20240315", "at 20240315101530.25",
                                  "15 Mar 2024", "March 15, 2024", "15-march-2024", "2024/03/15",
                                  "on 20240315.", "(2024-03-15)"])
def test_dates_are_found(text: str) -> None:
    assert patterns.has_date(text, IS_DUMMY)


@pytest.mark.parametrize("text", ["Version 1.2.24", "2.0.2024x", "kVp 120", "19000101", "1.2.840.10008.5.1",
                                  "uid 1.3.6.1.4.1.5962.1.20040119072730", "20241399", "March madness",
                                  "12/35/2024", "0.20240315", "Marker 2019", "Decubitus 2020"])
def test_non_dates_are_not_dates(text: str) -> None:
    assert not patterns.has_date(text, IS_DUMMY)


@pytest.mark.parametrize("text", ["MRN 88123456", "PHI-PID-000417", "acc A1234567B", "id:1234567"])
def test_identifier_like_numbers_are_found(text: str) -> None:
    assert patterns.has_identifier_like_number(text)


@pytest.mark.parametrize("text", ["12345", "0.000123456", "1.2.840.10008.1.2.1", "1,234,567",
                                  "20240315", "123456.5", "taken 20240315101530"])
def test_decimals_uids_short_numbers_and_dates_are_not_identifiers(text: str) -> None:
    assert not patterns.has_identifier_like_number(text)


@pytest.mark.parametrize("text", ["jane.doe@example.org", "write to a_b+c@mail.hospital.co.uk please"])
def test_emails_are_found(text: str) -> None:
    assert patterns.has_email(text)


@pytest.mark.parametrize("text", ["user@localhost", "@ 5 mm", "a@b"])
def test_non_emails(text: str) -> None:
    assert not patterns.has_email(text)


@pytest.mark.parametrize("text", ["+44 20 7946 0958", "call (555) 123-4567", "555-123-4567", "555.123.4567",
                                  "tel 020 7946 0958", "+1-202-555-0143"])
def test_phone_numbers_are_found(text: str) -> None:
    assert patterns.has_phone_number(text)


@pytest.mark.parametrize("text", ["120 250 500", "e+1", "TZ +0100", "1.2.840.10008", "2024-03-15",
                                  "+5 mm", "0.5-1.0-2.0", "10-20-30"])
def test_measurements_and_dates_are_not_phone_numbers(text: str) -> None:
    assert not patterns.has_phone_number(text)


@pytest.mark.parametrize("text", ["DOE^JANE", "seen by WINTERBOTTOM^ELSA today", "O'Neil^Mary-Kate", "Doe^J"])
def test_name_like_tokens_are_found(text: str) -> None:
    assert patterns.name_like_tokens(text, IS_DUMMY)


@pytest.mark.parametrize("text", ["CHEST^ROUTINE", "Head^Sinus", "Thorax^01_ThoraxRoutine", "ANONYMOUS^",
                                  "PROTOCOL^2", "^JANE", "a^b"])
def test_protocols_dummies_and_fragments_are_not_names(text: str) -> None:
    assert not patterns.name_like_tokens(text, IS_DUMMY)


def test_words_are_matched_whole() -> None:
    assert patterns.contains_word("SEEN BY DOE TODAY", ["DOE"])
    assert patterns.contains_word("DOE", ["DOE"])
    assert not patterns.contains_word("DOES NOT", ["DOE"])
    assert not patterns.contains_word("ADOE", ["DOE"])


def test_name_parts_skip_prefixes_and_short_parts() -> None:
    assert patterns.name_parts("DOE^JANE^MARIE^DR^JR") == ["DOE", "JANE", "MARIE"]
    assert patterns.name_parts("LI^WU") == []
    assert patterns.name_parts("YAMADA^TARO=山田^太郎=やまだ^たろう")[:2] == ["YAMADA", "TARO"]


@pytest.mark.parametrize("value,vr", [("", "LO"), ("  ", "PN"), ("ANONYMOUS", "PN"), ("anonymous^", "PN"),
                                      ("19000101", "DA"), ("19000101000000.000000+0000", "DT"),
                                      ("000000.00", "TM"), ("000Y", "AS"), ("0.000", "DS"), ("2.25.12345", "UI")])
def test_dummy_values(value: str, vr: str) -> None:
    assert IS_DUMMY(value, vr)


@pytest.mark.parametrize("value,vr", [("DOE^JANE", "PN"), ("19610704", "DA"), ("101530", "TM"), ("062Y", "AS"),
                                      ("1.2.3.4", "UI"), ("ANONYMOUS^JANE", "PN")])
def test_real_values_are_not_dummies(value: str, vr: str) -> None:
    assert not IS_DUMMY(value, vr)
