"""Shared helpers for the gantry-part10 tests, as fixtures (pytest runs with
``--import-mode=importlib``, so test modules cannot import this file by name).

- ``kernel``: an isolated kernel holding only the part10 plugin;
- ``encode(encoding, dataset=None, **make_dataset_options) -> bytes``;
- ``sequence_dataset(items=2, undefined=True, **options)``: an image with nested sequences;
- ``outcome(data, **read_options) -> str`` and ``cuts_not_rejected(data, cuts, **read_options)``;
- a test that takes an ``encoding`` argument runs once for each of ``ENCODINGS``.

``gantry.testing.datasets.write_dataset`` changes the dataset it is given (its transfer syntax,
and for big endian its Pixel Data bytes), so every helper here encodes a dataset made afresh.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

import gantry_part10.plugin as part10_plugin
from gantry import NotDicomError, ReaderError
from gantry.testing import kernel_with
from gantry.testing.datasets import make_dataset, write_dataset
from gantry_part10.sniff import looks_like_dicom

SNIFF_BYTES = 256

#: name: (transfer syntax, written with preamble and File Meta)
ENCODINGS: dict[str, tuple[str, bool]] = {
    "explicit-le": (ExplicitVRLittleEndian, True),
    "implicit-le": (ImplicitVRLittleEndian, True),
    "explicit-be": (ExplicitVRBigEndian, True),
    "deflated": (DeflatedExplicitVRLittleEndian, True),
    "raw-implicit": (ImplicitVRLittleEndian, False),
    "raw-explicit": (ExplicitVRLittleEndian, False),
}

Encode = Callable[..., bytes]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "encoding" in metafunc.fixturenames:
        metafunc.parametrize("encoding", list(ENCODINGS))


@pytest.fixture
def kernel() -> Any:
    """An isolated kernel holding only the part10 plugin."""
    return kernel_with({"part10": part10_plugin})


@pytest.fixture
def encode(tmp_path: Path) -> Encode:
    """``encode(encoding="explicit-le", dataset=None, **make_dataset_options) -> bytes``;
    ``encoding=None`` writes a Part 10 file in the dataset's own transfer syntax."""
    counter = itertools.count()

    def make(encoding: str | None = "explicit-le", *, dataset: Any = None, **options: Any) -> bytes:
        syntax, preamble = ENCODINGS[encoding] if encoding is not None else (None, True)
        ds = dataset if dataset is not None else make_dataset(**options)
        path = write_dataset(ds, tmp_path / f"encoded-{next(counter)}.dcm", preamble=preamble,
                             transfer_syntax=syntax)
        return Path(path).read_bytes()

    return make


@pytest.fixture
def sequence_dataset() -> Callable[..., Any]:
    return dataset_with_sequence


@pytest.fixture
def outcome_of(kernel: Any) -> Callable[..., str]:
    """``outcome_of(data, **read_options)``: see :func:`outcome`."""
    return lambda data, **options: outcome(kernel, data, **options)


@pytest.fixture
def rejections(kernel: Any) -> Callable[..., dict[int, str]]:
    """``rejections(data, cuts, **read_options)``: see :func:`cuts_not_rejected`."""
    return lambda data, cuts, **options: cuts_not_rejected(kernel, data, cuts, **options)


def dataset_with_sequence(*, items: int = 2, undefined: bool = True, **options: Any) -> Any:
    """A ``make_dataset`` image with a Referenced Series Sequence of ``items`` items, each with a
    nested Referenced Instance Sequence; sequences and items of undefined length when asked."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(**options)
    series = []
    for number in range(items):
        instance = Dataset()
        instance.ReferencedSOPClassUID = CTImageStorage
        instance.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.10.1432.5.{number}"
        instance.is_undefined_length_sequence_item = undefined
        item = Dataset()
        item.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.1432.6.{number}"
        item.ReferencedInstanceSequence = Sequence([instance])
        item["ReferencedInstanceSequence"].is_undefined_length = undefined
        item.is_undefined_length_sequence_item = undefined
        series.append(item)
    ds.ReferencedSeriesSequence = Sequence(series)
    ds["ReferencedSeriesSequence"].is_undefined_length = undefined
    return ds


def outcome(kernel: Any, data: bytes, **options: Any) -> str:
    """How reading ``data`` ends: "dataset", "not-dicom", "reader-error: <message>" or
    "<other exception>: message"; checks that NotDicomError comes only when the sniff says so."""
    try:
        kernel.read(data, **options)
    except NotDicomError as err:
        if looks_like_dicom(data[:SNIFF_BYTES]):
            return f"NotDicomError for bytes the sniff accepts: {err}"
        return "not-dicom"
    except ReaderError as err:
        return f"reader-error: {err}"
    except Exception as err:  # noqa: BLE001 - the point is to report it
        return f"{type(err).__name__}: {err}"
    return "dataset"


def cuts_not_rejected(kernel: Any, data: bytes, cuts: Iterable[int], **options: Any) -> dict[int, str]:
    """Cut lengths whose bytes ``data[:cut]`` were NOT properly rejected, with what happened.

    Properly rejected: a ReaderError that names the source (``<N bytes>``) and says "truncated",
    or a NotDicomError where the sniff no longer recognises the bytes.
    """
    failures = {}
    for cut in cuts:
        result = outcome(kernel, data[:cut], **options)
        if result == "not-dicom":
            continue
        if result.startswith("reader-error: ") and f"<{cut} bytes>" in result and "truncated" in result:
            continue
        failures[cut] = result
    return failures
