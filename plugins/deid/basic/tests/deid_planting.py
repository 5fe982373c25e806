"""Datasets with a planted, unique value in every attribute of Table E.1-1 (gantry-deid tests).

``conftest.py`` loads this module as ``gantry_deid_test_planting`` and hands it to tests through
the ``planting`` fixture (test modules cannot import each other under ``--import-mode=importlib``).

Every plain-tag row that pydicom's dictionary knows gets a value valid for its dictionary VR,
unique across the dataset and searchable in the encoded bytes where the VR is text or bytes
(numbers and tags are checked on the parsed output only). Rows pydicom does not know are
planted as UN (explicit VR keeps that) and counted. Masked rows are instantiated with real
groups: curves (5000,xxxx) and (5002,xxxx), overlays (6000,3000), (6000,4000) and (6002,3000).

The same plants go at the top level and 3 levels deep:
Referenced Series Sequence (0008,1115) > item > Referenced Instance Sequence (0008,114A) > item >
Purpose of Reference Code Sequence (0040,A170) > item (none of them is in Table E.1-1, so they
are kept and walked). Groups 0000, 0002 and 0004 are planted only inside that nesting: at the
top level they are not dataset attributes (and PS3.15 E.1.1 removes group 0004 everywhere).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import attrs
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from gantry_deid.tables import TableRow, table_e1_1

CONTAINERS = (0x00081115, 0x0008114A, 0x0040A170)
TOP_LEVEL_EXCLUDED_GROUPS = (0x0000, 0x0002, 0x0004)
#: Masked rows as real tags: (row tag text, instantiated tag, VR).
MASKED_INSTANCES = (
    ("(50xx,xxxx)", 0x50000005, "US"),
    ("(50xx,xxxx)", 0x50023000, "OB"),
    ("(50xx,xxxx)", 0x50022500, "LO"),
    ("(60xx,3000)", 0x60003000, "OW"),
    ("(60xx,3000)", 0x60023000, "OW"),
    ("(60xx,4000)", 0x60004000, "LT"),
)
TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
                      "UI", "UR", "UT"})
BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
NUMBER_VRS = {"US": 60000, "SS": 30000, "UL": 4_000_000, "SL": 2_000_000, "UV": 9_000_000, "SV": 8_000_000,
              "FL": 1000.5, "FD": 2000.25}
PATIENT_NAME = 0x00100010


@attrs.frozen
class Plant:
    """One planted attribute."""

    row: str
    """The Table E.1-1 tag text (a mask for an instantiated masked row)."""
    tag: int
    vr: str
    value: Any
    nested: bool
    needle: bytes | None
    """What must not appear in the output bytes (None for numbers and tags)."""
    in_dictionary: bool = True


def plain_rows() -> list[TableRow]:
    return [row for row in table_e1_1().rows if row.is_plain]


def dictionary_vr(tag: int) -> str | None:
    try:
        vr = str(dictionary_VR(tag))
    except KeyError:
        return None
    return vr.split(" or ")[0]  # "US or SS" -> US, "OB or OW" -> OB


class Planter:
    """Unique values per VR (dates and times spaced so that a shifted value never equals a planted one)."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def value(self, vr: str, nested: bool) -> tuple[Any, bytes | None]:
        n = next(self.counter)
        where = "N" if nested else "T"
        token = f"PHI{n:04d}{where}"
        if vr in ("AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT"):
            return token, token.encode()
        if vr == "PN":
            return f"{token}^PLANTGIVEN", token.encode()
        if vr == "UR":
            return f"http://{token.lower()}.invalid/", token.lower().encode()
        if vr == "AS":
            text = f"{n % 1000:03d}{'W' if nested else 'M'}"
            return text, None  # four characters: too short to search for safely
        if vr == "DA":
            text = (datetime.date(1980, 1, 1) + datetime.timedelta(days=n)).strftime("%Y%m%d")
            return text, text.encode()
        if vr == "DT":
            moment = datetime.datetime(1985, 1, 1) + datetime.timedelta(days=n, minutes=n)
            text = moment.strftime("%Y%m%d%H%M%S")
            return text, text.encode()
        if vr == "TM":
            text = f"101010.{n:06d}"
            return text, text.encode()
        if vr == "DS":
            text = f"7{n:04d}.5"
            return text, None  # digits could occur in other numbers
        if vr == "IS":
            return str(800000 + n), None
        if vr == "UI":
            text = f"1.2.826.0.1.3680043.10.1432.99.{n}.{2 if nested else 1}"
            return text, text.encode()
        if vr in NUMBER_VRS:
            return NUMBER_VRS[vr], None
        if vr == "AT":
            return 0x00189999, None
        if vr in BYTES_VRS:
            data = f"PHIB{n:04d}{where}".encode()
            data += b"\x00" * (-len(data) % 8)
            return data, data.rstrip(b"\x00")
        if vr == "SQ":
            item = Dataset()
            uid = f"1.2.826.0.1.3680043.10.1432.98.{n}.{2 if nested else 1}"
            item.ReferencedSOPClassUID = CTImageStorage
            item.ReferencedSOPInstanceUID = uid
            return Sequence([item]), uid.encode()
        raise ValueError(f"no plant for VR {vr}")


def plants(nested: bool, planter: Planter) -> Iterator[Plant]:
    for row in plain_rows():
        group = row.value >> 16
        if not nested and group in TOP_LEVEL_EXCLUDED_GROUPS:
            continue
        vr = dictionary_vr(row.value)
        if vr is None:
            value, needle = planter.value("UN", nested)
            yield Plant(row.tag_text, row.value, "UN", value, nested, needle, in_dictionary=False)
            continue
        value, needle = planter.value(vr, nested)
        yield Plant(row.tag_text, row.value, vr, value, nested, needle)
    for row_text, tag, vr in MASKED_INSTANCES:
        value, needle = planter.value(vr, nested)
        yield Plant(row_text, tag, vr, value, nested, needle)


def fill(dataset: Dataset, items: Iterator[Plant]) -> list[Plant]:
    placed = []
    for plant in items:
        dataset[plant.tag] = DataElement(plant.tag, plant.vr, plant.value)
        placed.append(plant)
    return placed


def planted_dataset(*, nested: bool = True) -> tuple[Dataset, list[Plant]]:
    """A CT-like dataset holding every plant at the top level (and nested unless told otherwise)."""
    planter = Planter()
    ds = Dataset()
    placed = fill(ds, plants(False, planter))
    ds.SOPClassUID = CTImageStorage
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.Rows = ds.Columns = 2  # a small image: the part10 reader refuses an image without pixels
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = bytes(8)
    if nested:
        deepest = Dataset()
        placed += fill(deepest, plants(True, planter))
        inner = Dataset()
        inner.ReferencedSOPClassUID = CTImageStorage
        inner[CONTAINERS[2]] = DataElement(CONTAINERS[2], "SQ", Sequence([deepest]))
        outer = Dataset()
        outer[CONTAINERS[1]] = DataElement(CONTAINERS[1], "SQ", Sequence([inner]))
        ds[CONTAINERS[0]] = DataElement(CONTAINERS[0], "SQ", Sequence([outer]))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.10.1432.0.1"
    meta.SourceApplicationEntityTitle = "PHIAETITLE"
    ds.file_meta = meta
    return ds, placed


def nested_item(ds: Dataset) -> Dataset | None:
    """The deepest item of the nesting, or None when a container is gone or empty."""
    current = ds
    for tag in CONTAINERS:
        if tag not in current or not current[tag].value:
            return None
        current = current[tag].value[0]
    return current
