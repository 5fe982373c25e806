"""Read a path, bytes or a binary stream into a pydicom Dataset, and check that it is whole.

pydicom reads a file cut short without complaint: an element whose value ends early simply gets
a shorter value, and a header cut in half ends the dataset. Sites move files over flaky shares
and half-finished transfers, so this reader checks what pydicom does not: every element read has
its full declared length, nothing unparsed is left at the end, and the File Meta is whole.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from gantry import NotDicomError, ReaderError
from gantry.log import Phi, get_logger

from gantry_part10.sniff import has_preamble, raw_encoding

log = get_logger(__name__)

SNIFF_BYTES = 256
UNDEFINED_LENGTH = 0xFFFFFFFF
PIXEL_DATA_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})


def read(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    stop_before_pixels: bool = False,
    specific_tags: list[Any] | None = None,
    defer_size: int | str | None = None,
) -> Any:
    """Read ``source`` into a Dataset; :class:`ReaderError` says what is wrong and where."""
    name = _name(source)
    with _opened(source) as (handle, size):
        start = handle.tell()
        head = handle.read(SNIFF_BYTES)
        handle.seek(start)
        if has_preamble(head):
            force = False
        elif raw_encoding(head) is not None:
            force = True  # a raw dataset: pydicom reads it only when forced
        else:
            raise NotDicomError(f"{name} is not DICOM: no 'DICM' at byte 128 and the first bytes "
                                "are not a DICOM element")
        dataset = _parse(handle, name, force=force, stop_before_pixels=stop_before_pixels,
                         specific_tags=specific_tags, defer_size=defer_size)
        if specific_tags is None:  # a partial read cannot be checked for completeness
            _check_whole(dataset, name, size=size, end=handle.tell(),
                         stopped_before_pixels=stop_before_pixels, handle=handle)
    return dataset


def _parse(handle: IO[bytes], name: str, *, force: bool, **options: Any) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            dataset = pydicom.dcmread(handle, force=force, **options)
        except InvalidDicomError as err:
            raise ReaderError(f"{name}: invalid DICOM: {err}") from err
        except (EOFError, struct.error, zlib.error) as err:
            raise ReaderError(f"{name}: truncated: the file ends inside an element ({err})") from err
        except (ValueError, KeyError, TypeError, NotImplementedError, OverflowError) as err:
            raise ReaderError(f"{name}: cannot parse: {type(err).__name__}: {err}") from err
    if caught:
        # pydicom's warnings can quote element values (patient data): log them as PHI.
        log.info("reader.warnings", source=name, count=len(caught),
                 first=Phi(str(caught[0].message)))
    return dataset


def _check_whole(dataset: Any, name: str, *, size: int, end: int, stopped_before_pixels: bool,
                 handle: IO[bytes]) -> None:
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and "FileMetaInformationGroupLength" in meta and len(dataset) == 0 and end >= size:
        raise ReaderError(f"{name}: truncated: the file ends in or right after the File Meta Information "
                          f"({size} bytes); it holds no dataset")
    if len(dataset) == 0:
        raise ReaderError(f"{name}: no data elements could be read")
    for tag, raw in _raw_elements(dataset):
        length = getattr(raw, "length", None)
        if length is None or length == UNDEFINED_LENGTH:
            continue
        value = raw.value
        if value is None:  # deferred: check that the file really holds it
            if raw.value_tell + length > size:
                raise _truncated(name, tag, length, size - raw.value_tell)
        elif isinstance(value, (bytes, bytearray)) and len(value) < length:
            raise _truncated(name, tag, length, len(value))
    if stopped_before_pixels:
        _check_pixel_data_header(handle, name, size)
    elif end < size:
        leftover = size - end
        raise ReaderError(f"{name}: {leftover} byte(s) at offset {end} could not be parsed "
                          "(a truncated element header or trailing garbage)")


def _raw_elements(dataset: Any) -> Iterator[tuple[int, Any]]:
    from pydicom.dataelem import RawDataElement

    for tag in dataset.keys():
        item = dataset.get_item(tag)
        if isinstance(item, RawDataElement):
            yield int(tag), item


def _check_pixel_data_header(handle: IO[bytes], name: str, size: int) -> None:
    """After ``stop_before_pixels``, make sure the Pixel Data that was skipped is really there."""
    position = handle.tell()
    header = handle.read(12)
    if len(header) < 8:
        return  # no pixel data element follows (or nothing at all): nothing skipped
    group, element = struct.unpack_from("<HH", header)
    if (group << 16 | element) not in PIXEL_DATA_TAGS:
        return
    if header[4:6] in (b"OB", b"OW", b"OF", b"OD", b"UN"):
        length, header_length = struct.unpack_from("<I", header, 8)[0], 12
    else:
        length, header_length = struct.unpack_from("<I", header, 4)[0], 8
    if length != UNDEFINED_LENGTH and position + header_length + length > size:
        raise ReaderError(f"{name}: truncated: Pixel Data declares {length} bytes but the file holds "
                          f"{max(size - position - header_length, 0)}")


def _truncated(name: str, tag: int, declared: int, present: int) -> ReaderError:
    return ReaderError(f"{name}: truncated: element ({tag >> 16:04X},{tag & 0xFFFF:04X}) declares "
                       f"{declared} bytes but the file holds {max(present, 0)}")


@contextmanager
def _opened(source: Any) -> Iterator[tuple[IO[bytes], int]]:
    """Yield a binary handle and the total size of the source."""
    if isinstance(source, (str, os.PathLike)):
        try:
            handle = open(source, "rb")
        except OSError as err:
            raise ReaderError(f"{_name(source)}: cannot open: {err.strerror or err}") from err
        with handle:
            yield handle, os.fstat(handle.fileno()).st_size
    elif isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(bytes(source)), len(source)
    elif hasattr(source, "read") and hasattr(source, "seek"):
        start = source.tell()
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(start)
        yield source, size
    else:
        raise ReaderError(f"cannot read a {type(source).__name__}: give a path, bytes or a seekable binary stream")


def _name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    return repr(getattr(source, "name", f"<{type(source).__name__}>"))
