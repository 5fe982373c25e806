"""Datasets for the gantry-phi-audit tests, as fixtures (pytest runs with
``--import-mode=importlib``, so test modules cannot import this file by name).

- ``planted``: ``(dataset, plants)``: a ``make_dataset`` image (whose ``PLANTED_PHI`` values are
  in it already) with more identifiers planted three levels deep in sequences, in private
  elements and a private sequence, in SR Text Values, in an overlay and a curve, and in the
  File Meta. ``plants`` lists each planted value with the tag path and rule that must find it.
- ``part10_bytes(dataset, preamble=b"")``: the dataset as a Part 10 file, preamble included.
- ``clean_ct``: pydicom's ``CT_small.dcm`` as a (simulated) Basic Profile output.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import attrs
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from gantry.testing.datasets import make_dataset


@attrs.frozen
class Plant:
    value: str
    path: str
    rule: str


@attrs.frozen
class Planted:
    dataset: Any
    plants: list[Plant]

    @property
    def values(self) -> list[str]:
        return [plant.value for plant in self.plants]


def _item(**keywords: Any) -> Dataset:
    item = Dataset()
    for keyword, value in keywords.items():
        setattr(item, keyword, value)
    return item


def planted_dataset() -> Planted:
    ds = make_dataset()
    plants: list[Plant] = []

    # Three levels down, in sequences the Basic Profile keeps (their content must be cleaned).
    deepest = _item(
        OperatorsName="NESTED^OPERATOR",
        WindowCenterWidthExplanation="windowed on 2023-11-02",
        LUTExplanation="reviewed by WINTERBOTTOM^ELSA",
        LUTLabel="MRN 88123456",
        ContentDescription="call +44 20 7946 0958",
        RescaleType="US",  # a coded value beside them: nothing to find
    )
    deepest.add_new(0x00700082, "DA", "20231102")  # Presentation Creation Date (listed)
    instance = _item(ReferencedSOPInstanceUID="1.2.826.0.1.3680043.10.1432.5.1",
                     AnatomicRegionSequence=Sequence([deepest]))
    ds.ReferencedSeriesSequence = Sequence([_item(ReferencedInstanceSequence=Sequence([instance]))])
    deep = "(0008,1115)[0]>(0008,114A)[0]>(0008,2218)[0]>"
    plants += [
        Plant("NESTED^OPERATOR", deep + "(0008,1070)", "person-name"),
        Plant("NESTED^OPERATOR", deep + "(0008,1070)", "patient-identifier-attribute"),
        Plant("2023-11-02", deep + "(0028,1055)", "free-text-date"),
        Plant("WINTERBOTTOM^ELSA", deep + "(0028,3003)", "free-text-name"),
        Plant("88123456", deep + "(0040,9210)", "identifier-like"),
        Plant("+44 20 7946 0958", deep + "(0070,0081)", "phone"),
        Plant("20231102", deep + "(0070,0082)", "patient-identifier-attribute"),
    ]
    ds.DerivationDescription = "sent by jane.doe@example.org"
    plants.append(Plant("jane.doe@example.org", "(0008,2111)", "email"))

    # Private elements: a name in a plain private element, an ID inside a private sequence.
    block = ds.private_block(0x0011, "ACME PRIVATE 1", create=True)
    block.add_new(0x10, "LO", "KOWALSKI^ANNA")
    block.add_new(0x20, "SQ", Sequence([_item(PatientID="PRIV-ID-0099")]))
    plants += [
        Plant("KOWALSKI^ANNA", "(0011,1010)", "private-tag-present"),
        Plant("KOWALSKI^ANNA", "(0011,1010)", "free-text-name"),
        Plant("PRIV-ID-0099", "(0011,1020)", "private-tag-present"),
        Plant("PRIV-ID-0099", "(0011,1020)[0]>(0010,0020)", "patient-identifier-attribute"),
    ]

    # SR content: text two levels down, a name mentioned in a third.
    text = _item(RelationshipType="CONTAINS", ValueType="TEXT",
                 TextValue="Seen on 15/03/2024 at the clinic")
    named = _item(RelationshipType="CONTAINS", ValueType="TEXT",
                  TextValue="Discussed with Winterbottom today")
    ds.ContentSequence = Sequence([_item(ValueType="CONTAINER", ContentSequence=Sequence([text, named]))])
    plants += [
        Plant("15/03/2024", "(0040,A730)[0]>(0040,A730)[0]>(0040,A160)", "sr-text"),
        Plant("Winterbottom", "(0040,A730)[0]>(0040,A730)[1]>(0040,A160)", "sr-text"),
    ]

    # Graphics groups and the File Meta.
    ds.add_new(0x60000010, "US", 16)
    ds.add_new(0x60000011, "US", 16)
    ds.add_new(0x60000022, "LO", "overlay of PETROVA^IRINA")
    ds.add_new(0x60003000, "OW", b"\xff\x00" * 16)
    ds.add_new(0x50002500, "LO", "curve of 1961-07-04")
    ds.file_meta.SourceApplicationEntityTitle = "PHISOURCEAE"
    plants += [
        Plant("PETROVA^IRINA", "(6000,0022)", "overlay-data"),
        Plant("PETROVA^IRINA", "(6000,0022)", "free-text-name"),
        Plant("overlay pixels", "(6000,3000)", "overlay-data"),
        Plant("1961-07-04", "(5000,2500)", "curve-data"),
        Plant("1961-07-04", "(5000,2500)", "free-text-date"),
        Plant("PHISOURCEAE", "(0002,0016)", "file-meta-identity"),
    ]
    return Planted(ds, plants)


def part10_bytes(dataset: Any, preamble: bytes = b"") -> bytes:
    stream = BytesIO()
    dataset.preamble = preamble.ljust(128, b"\x00")[:128]
    dataset.save_as(stream, enforce_file_format=True)
    return stream.getvalue()


@pytest.fixture
def planted() -> Planted:
    return planted_dataset()


@pytest.fixture
def to_part10() -> Callable[..., bytes]:
    return part10_bytes


@pytest.fixture
def clean_ct() -> Any:
    import pydicom
    from pydicom.data import get_testdata_file

    from gantry_phi_audit.testing import simulated_basic_output

    return simulated_basic_output(pydicom.dcmread(get_testdata_file("CT_small.dcm")))
