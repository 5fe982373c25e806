"""The fast encoder writes what pydicom writes, byte for byte, for every encoding."""

from __future__ import annotations

import copy
import io
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file

from gantry_deid import compile_plan, deidentify_dataset, encode_part10, make_context
from gantry_deid.encoder import encode_dataset

FILES = [
    "CT_small.dcm",            # explicit VR little endian, GE private blocks
    "MR_small_implicit.dcm",   # implicit VR little endian
    "MR_small_bigendian.dcm",  # explicit VR big endian
    "deflated",                # CT_small as deflated explicit VR little endian (written here)
    "JPEG2000.dcm",            # encapsulated pixel data (undefined length)
    "rtplan.dcm",              # nested sequences
    "reportsi.dcm",            # a structured report (deep Content Sequence)
    "examples_overlay.dcm",    # overlay planes (60xx)
]
OPTION_SETS = [(), ("retain-uids", "retain-safe-private", "clean-descriptors", "retain-long-full-dates")]


@pytest.fixture(scope="module")
def deflated(tmp_path_factory: pytest.TempPathFactory) -> str:
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = tmp_path_factory.mktemp("deflated") / "ct_deflated.dcm"
    dataset.save_as(path, enforce_file_format=True)
    return str(path)


def source_of(name: str, request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("deflated") if name == "deflated" else get_testdata_file(name)


def pydicom_bytes(dataset: Any) -> bytes:
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, copy.deepcopy(dataset), enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("options", OPTION_SETS, ids=["basic", "retaining"])
@pytest.mark.parametrize("name", FILES)
def test_deidentified_output_is_what_pydicom_writes(deid_kernel: Any, name: str, options: tuple[str, ...],
                                                   request: pytest.FixtureRequest) -> None:
    source = source_of(name, request)
    dataset = deid_kernel.read(source)
    plan = compile_plan(deid_kernel, options=options)
    out = deidentify_dataset(dataset, plan, make_context(dataset, secret=b"s", plan=plan))
    ours = encode_part10(out)
    assert ours == pydicom_bytes(out)
    again = pydicom.dcmread(io.BytesIO(ours))
    assert again.file_meta.TransferSyntaxUID == dataset.file_meta.TransferSyntaxUID
    assert again.SOPInstanceUID == out.SOPInstanceUID


@pytest.mark.parametrize("name", FILES)
def test_an_untouched_dataset_encodes_as_pydicom_encodes_it(deid_kernel: Any, name: str,
                                                            request: pytest.FixtureRequest) -> None:
    dataset = deid_kernel.read(source_of(name, request))
    implicit, little = dataset.original_encoding
    body = encode_dataset(dataset, implicit=implicit, little=little)
    buffer = pydicom.filebase.DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit, little
    pydicom.filewriter.write_dataset(buffer, copy.deepcopy(dataset))
    assert body == buffer.getvalue()


def test_a_dataset_built_in_memory_is_encoded_by_pydicom_rules(planting: Any) -> None:
    dataset, _plants = planting.planted_dataset()
    meta = dataset.file_meta
    ours = encode_part10(dataset, meta)
    assert ours == pydicom_bytes(dataset)
