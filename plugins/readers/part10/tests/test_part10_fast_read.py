"""The fast path builds exactly the Dataset pydicom.dcmread builds, or steps aside."""

from __future__ import annotations

import os
import warnings

import pydicom
import pytest
from pydicom.data import get_testdata_files

from gantry_part10 import reader
from gantry_part10.fast_read import read_fast


def readable_test_files():
    files = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in get_testdata_files():
            try:
                pydicom.dcmread(path)
            except Exception:
                continue
            files.append(path)
    return files


FILES = readable_test_files()


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_the_fast_path_equals_dcmread_or_declines(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pydicom.dcmread(path)
        with open(path, "rb") as handle:
            fast = read_fast(handle, os.fstat(handle.fileno()).st_size)
    if fast is None:
        return  # declined: the reader uses dcmread
    assert list(fast.keys()) == list(expected.keys())
    assert all(fast.get_item(tag) == expected.get_item(tag) for tag in expected.keys())  # raw, untouched
    assert fast.file_meta == expected.file_meta
    assert fast.preamble == expected.preamble
    assert fast.original_encoding == expected.original_encoding
    assert fast._character_set == expected._character_set
    assert fast == expected


def test_it_serves_most_files_and_the_reader_uses_it(monkeypatch):
    served = 0
    for path in FILES:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            served += read_fast(handle, os.fstat(handle.fileno()).st_size) is not None
    assert served > len(FILES) // 3
    common = pydicom.data.get_testdata_file("CT_small.dcm")

    def refuse(*args, **kwargs):
        raise AssertionError("dcmread should not be needed for CT_small.dcm")

    monkeypatch.setattr(pydicom, "dcmread", refuse)
    assert reader.read(common).PatientName == "CompressedSamples^CT1"


def test_truncated_files_still_fail_with_the_reader_error(tmp_path):
    whole = open(pydicom.data.get_testdata_file("CT_small.dcm"), "rb").read()
    for cut in (140, 700, len(whole) // 2, len(whole) - 3):
        path = tmp_path / f"cut{cut}.dcm"
        path.write_bytes(whole[:cut])
        with pytest.raises(reader.ReaderError):
            reader.read(str(path))
