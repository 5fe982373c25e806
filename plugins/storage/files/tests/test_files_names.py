"""Untrusted UIDs become safe names: valid UIDs as they are, anything else hashed."""

from __future__ import annotations

import hashlib

import pytest

from gantry_files.names import is_valid_uid, safe_name


@pytest.mark.parametrize("uid", ["0", "1.2.3", "1.2.840.10008.1.2.1", "2.25.0.10", "1." + "9" * 62])
def test_valid_uids_are_names_as_they_are(uid):
    assert is_valid_uid(uid)
    assert safe_name(uid) == uid


def test_dicom_padding_is_not_part_of_the_uid():
    assert safe_name("1.2.3\0") == safe_name("1.2.3 ") == "1.2.3"


@pytest.mark.parametrize("uid", [
    "", ".", "..", "../../etc/passwd", "/etc/passwd", "1.2/3", "1.2\\3", "1.2.3\0/../x", "\0",
    "1.02.3", "01.2", "1..2", ".1.2", "1.2.", "1.2.3\n", "1.2.a", "CON", "NUL", "com1", "aux.dcm",
    "1." + "9" * 63, "1" * 300, "é", "\ud800",
])
def test_anything_else_gets_a_hashed_name(uid):
    name = safe_name(uid)
    assert name.startswith("x-") and len(name) == 42
    assert set(name[2:]) <= set("0123456789abcdef")
    assert safe_name(uid) == name  # deterministic


def test_hashed_names_differ_per_value():
    values = ["..", ".", "", "a", "b", "1.02", "1" * 300, "1" * 301]
    assert len({safe_name(value) for value in values}) == len(values)


def test_hashed_name_is_the_sha256_prefix():
    assert safe_name("../x") == "x-" + hashlib.sha256(b"../x").hexdigest()[:40]
