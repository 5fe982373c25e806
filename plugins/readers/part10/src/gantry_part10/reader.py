"""Read a path, bytes or a binary stream into a pydicom Dataset, and check that it is whole.

pydicom reads a file cut short without complaint: an element whose value ends early simply gets
a shorter value, a header cut in half ends the dataset, and a sequence item that never closes
ends at the end of the file. Sites move files over flaky shares and half-finished transfers, so
this reader checks what pydicom does not. After pydicom has parsed the file, :class:`_Structure`
walks the element headers of the whole file again, on its own (values are skipped, not read):

- every element, sequence item and fragment has its full declared length, at any depth;
- every element or item of undefined length is closed by its delimiter;
- the walk ends exactly at the end of the file: a cut element header, or trailing bytes that do
  not parse as elements in ascending tag order, are reported with their offset;
- a deflated dataset inflates to its end-of-stream marker, with nothing after it.

A file cut exactly between two elements is still a well-formed, shorter dataset. The one such cut
we can tell is the commonest: an image (an "Image Storage" SOP class, or Rows present) without
Pixel Data is reported as truncated, with ``stop_before_pixels`` or without (the walk covers the
whole file either way). A clean cut in a non-image object cannot be told from a whole file.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any

from gantry import NotDicomError, ReaderError
from gantry.log import Phi, get_logger
from gantry.sources import describe_source

from gantry_part10.sniff import MAGIC, PREAMBLE_LENGTH, VRS, has_preamble, raw_encoding

log = get_logger(__name__)

SNIFF_BYTES = 256
UNDEFINED_LENGTH = 0xFFFFFFFF
PIXEL_DATA_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
TRANSFER_SYNTAX_UID = 0x00020010
ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PREAMBLE_AND_MAGIC = PREAMBLE_LENGTH + len(MAGIC)


def read(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    stop_before_pixels: bool = False,
    specific_tags: list[Any] | None = None,
    defer_size: int | str | None = None,
) -> Any:
    """Read ``source`` into a Dataset; :class:`ReaderError` says what is wrong and where."""
    name = describe_source(source)
    with _opened(source, name) as (handle, size):
        start = handle.tell()
        head = handle.read(SNIFF_BYTES)
        handle.seek(start)
        preamble = has_preamble(head)
        if preamble:
            force = False
        elif raw_encoding(head) is not None:
            force = True  # a raw dataset: pydicom reads it only when forced
        else:
            raise NotDicomError(f"{name} is not DICOM: no 'DICM' at byte 128 and the first bytes "
                                "are not a DICOM element")
        try:
            dataset = None
            if preamble and not (stop_before_pixels or specific_tags or defer_size):
                dataset = _parse_fast(handle, size, start)
            if dataset is None:
                dataset = _parse(handle, name, force=force, stop_before_pixels=stop_before_pixels,
                                 specific_tags=specific_tags, defer_size=defer_size)
        except ReaderError:
            # pydicom gave up: when the file is damaged, the structure walk says where and how.
            with suppress(RecursionError), _bytes_of(handle, size) as buffer:
                _Structure(buffer, name, size).walk_file(start, preamble=preamble)
            raise
        if specific_tags is None:  # a partial read cannot be checked for completeness
            with _bytes_of(handle, size) as buffer:
                structure = _Structure(buffer, name, size)
                structure.walk_file(start, preamble=preamble)
            _check_whole(dataset, name, size=size, structure=structure)
    _note_transfer_syntax(dataset)
    return dataset


def _note_transfer_syntax(dataset: Any) -> None:
    """Record the encoding a dataset without File Meta (a raw one) was read in: pydicom needs
    (0002,0010) to decode Pixel Data, and later stages need to know it."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    if getattr(dataset, "file_meta", None) is None:
        dataset.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in dataset.file_meta:
        implicit, little = dataset.original_encoding
        dataset.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                               ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def _parse_fast(handle: IO[bytes], size: int, start: int) -> Any:
    """The common file without pydicom's element-by-element stream reads (see ``fast_read``);
    None, with the handle rewound, when the file is not that case."""
    from gantry_part10.fast_read import read_fast

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            dataset = read_fast(handle, size - start)
        except Exception:  # anything unexpected: pydicom reads it and says what is wrong
            dataset = None
    if dataset is None:
        handle.seek(start)  # pydicom reads it again and reports its own warnings
    elif caught:
        log.info("reader.warnings", source=describe_source(handle), count=len(caught),
                 first=Phi(str(caught[0].message)))
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
        except OSError as err:  # pydicom raises OSError for an item header it cannot read
            raise ReaderError(f"{name}: cannot read: {err}") from err
        except Exception as err:  # ValueError, pydicom's BytesLengthException, RecursionError ...
            raise ReaderError(f"{name}: cannot parse: {type(err).__name__}: {err}") from err
    if caught:
        # pydicom's warnings can quote element values (patient data): log them as PHI.
        log.info("reader.warnings", source=name, count=len(caught),
                 first=Phi(str(caught[0].message)))
    return dataset


def _check_whole(dataset: Any, name: str, *, size: int, structure: _Structure) -> None:
    """What the structure walk cannot see: a dataset with nothing in it, an image without pixels."""
    meta = getattr(dataset, "file_meta", None)
    if len(dataset) == 0:
        if getattr(dataset, "preamble", None) is not None or meta:  # a Part 10 file, cut short
            raise ReaderError(f"{name}: truncated: the file ends in or right after the File Meta "
                              f"Information ({size} bytes); it holds no dataset")
        raise ReaderError(f"{name}: no data elements could be read")
    image = _image_kind(dataset)
    if image and not structure.has_pixel_data:
        after = f", after element {_tag(structure.last_tag)}" if structure.last_tag is not None else ""
        raise ReaderError(f"{name}: truncated: an image ({image}) without Pixel Data: the file ends at "
                          f"byte {size}{after}")


def _image_kind(dataset: Any) -> str:
    """Why ``dataset`` must hold Pixel Data ("" when it need not): its SOP class or its Rows."""
    from pydicom.uid import UID

    meta = getattr(dataset, "file_meta", None)
    for holder, keyword in ((dataset, "SOPClassUID"), (meta, "MediaStorageSOPClassUID")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pydicom's warnings about a value quote it
                uid = holder.get(keyword) if holder is not None else None
                uid_name = UID(str(uid)).name if uid else ""
        except Exception:  # a damaged value: it cannot tell us anything
            continue
        if "Image Storage" in uid_name:
            return uid_name
    return "it has Rows" if "Rows" in dataset else ""


class _Structure:
    """Walk the element headers of a whole file, skipping values, as pydicom would parse them.

    Raises :class:`ReaderError` at the first element, item or delimiter that the file does not
    hold in full, and at trailing bytes that are not elements. Records whether the top-level
    dataset has Pixel Data and its last element.
    """

    def __init__(self, buffer: Any, name: str, size: int, *, where: str = "the file") -> None:
        from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

        # The whole source as one buffer (a memory map for files): headers are unpacked in
        # place, which is several times faster than a seek and a read per element.
        self.buffer, self.name, self.size, self.where = buffer, name, size, where
        self.long_vrs = frozenset(str(vr).encode() for vr in EXPLICIT_VR_LENGTH_32)
        self.has_pixel_data = False
        self.last_tag: int | None = None
        self.syntax = ""

    def walk_file(self, start: int, *, preamble: bool) -> None:
        from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

        pos = start + (PREAMBLE_AND_MAGIC if preamble else 0)
        pos = self._dataset(pos, self._implicit_at(pos, False), True, group=0x0002)  # File Meta
        if self.syntax == DeflatedExplicitVRLittleEndian:
            self._walk_deflated(pos)
            return
        pos = self._dataset(pos, self._implicit_at(pos, True), True, group=0x0000)  # a command set
        if self.syntax:
            implicit, little = self.syntax == ImplicitVRLittleEndian, self.syntax != ExplicitVRBigEndian
        else:  # no transfer syntax: pydicom takes explicit VR when the first VR is one, and big
            first = bytes(self.buffer[pos:pos + 6])  # endian when that group, read little endian, is >= 1024
            implicit = first[4:6] not in VRS
            little = implicit or len(first) < 2 or struct.unpack("<H", first[:2])[0] < 1024
        self._dataset(pos, self._implicit_at(pos, implicit), little)

    def _walk_deflated(self, pos: int) -> None:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(self.buffer[pos:self.size])
        except zlib.error as err:
            raise ReaderError(f"{self.name}: the deflated dataset at offset {pos} cannot be inflated "
                              f"(damaged or truncated): {err}") from err
        if not inflater.eof:
            raise ReaderError(f"{self.name}: truncated: the deflated dataset at offset {pos} ends "
                              f"before its end-of-stream marker (the file holds {self.size} bytes)")
        if inflater.unused_data not in (b"", b"\x00"):  # PS3.5 A.5: one 00H pads an odd stream
            raise self._unparsed(self.size - len(inflater.unused_data),
                                 "after the end of the deflated dataset")
        inner = _Structure(data, self.name, len(data), where="the inflated dataset")
        inner._dataset(0, inner._implicit_at(0, False), True)
        self.has_pixel_data, self.last_tag = inner.has_pixel_data, inner.last_tag

    def _dataset(self, pos: int, implicit: bool, little: bool, *, nested: bool = False,
                 group: int | None = None) -> int:
        """Walk one dataset from ``pos``; return where it ends (after its Item Delimitation Item
        when ``nested``). With ``group``, stop before the first element of another group."""
        previous = -1
        while True:
            if pos >= self.size:
                if nested:
                    raise ReaderError(f"{self.name}: truncated: {self.where} ends at byte {pos} inside "
                                      "a sequence item (no Item Delimitation Item)")
                return pos
            tag, length, value = self._header(pos, implicit, little)
            if group is not None and tag >> 16 != group:
                return pos
            if tag == ITEM_DELIMITER:
                if nested:
                    return value
                raise self._unparsed(pos, "an Item Delimitation Item outside any sequence")
            if group is None and not nested:
                if tag <= previous:
                    raise self._unparsed(pos, f"element {_tag(tag)} is out of order after {_tag(previous)}")
                previous = self.last_tag = tag
                self.has_pixel_data = self.has_pixel_data or tag in PIXEL_DATA_TAGS
            if length == UNDEFINED_LENGTH:
                pos = self._items(value, implicit, little, tag)
                continue
            if value + length > self.size:
                raise _truncated(self.name, tag, length, self.size - value, self.where)
            if tag == TRANSFER_SYNTAX_UID and length <= 64:
                self.syntax = bytes(self.buffer[value:value + length]).decode("ascii", "replace").strip("\0 ")
            pos = value + length

    def _items(self, pos: int, implicit: bool, little: bool, owner: int) -> int:
        """Walk the items of an element of undefined length; return where its delimiter ends."""
        while True:
            if pos >= self.size:
                raise ReaderError(f"{self.name}: truncated: {self.where} ends at byte {pos} inside element "
                                  f"{_tag(owner)} of undefined length (no Sequence Delimitation Item)")
            tag, length, value = self._header(pos, True, little)  # items: tag and 32-bit length
            if tag == SEQUENCE_DELIMITER:
                return value
            if tag != ITEM:  # not items: pydicom reads the value up to the delimiter
                return self._find_delimiter(pos, little, owner)
            if length == UNDEFINED_LENGTH:
                pos = self._dataset(value, self._implicit_at(value, implicit, nested=True), little, nested=True)
            elif value + length > self.size:
                raise _truncated(self.name, owner, length, self.size - value, self.where, what="an item of element")
            else:
                pos = value + length

    def _find_delimiter(self, pos: int, little: bool, owner: int) -> int:
        delimiter = struct.pack("<HH" if little else ">HH", 0xFFFE, 0xE0DD)
        found = self.buffer.find(delimiter, pos, self.size)
        if found >= 0 and found + 8 <= self.size:
            return found + 8
        raise ReaderError(f"{self.name}: truncated: {self.where} ends before the Sequence Delimitation "
                          f"Item of element {_tag(owner)}")

    def _header(self, pos: int, implicit: bool, little: bool) -> tuple[int, int, int]:
        """``(tag, value length, value offset)`` of the element header at ``pos``, as pydicom reads it."""
        if pos + 8 > self.size:
            raise self._cut_header(pos)
        buffer = self.buffer
        group, element, vr, short = (_LITTLE_HEADER if little else _BIG_HEADER).unpack_from(buffer, pos)
        if implicit or group == 0xFFFE or not b"AA" <= vr <= b"ZZ":
            # Items and delimiters are always tag + 32-bit length; so is an explicit element
            # whose VR is not letters (pydicom assumes a switch to implicit VR).
            length = (_LITTLE_LONG if little else _BIG_LONG).unpack_from(buffer, pos + 4)[0]
            return group << 16 | element, length, pos + 8
        if vr in self.long_vrs:
            if pos + 12 > self.size:
                raise self._cut_header(pos)
            return group << 16 | element, (_LITTLE_LONG if little else _BIG_LONG).unpack_from(buffer, pos + 8)[0], pos + 12
        return group << 16 | element, short, pos + 8

    def _implicit_at(self, pos: int, assumed: bool, *, nested: bool = False) -> bool:
        """pydicom's choice of VR encoding for the dataset at ``pos``: the first VR decides."""
        if nested and assumed:
            return True  # items of an implicit dataset stay implicit
        first = self.buffer[pos:pos + 6]
        if pos + 6 > self.size:
            return assumed
        return not (0x40 < first[4] < 0x5B and 0x40 < first[5] < 0x5B)

    def _cut_header(self, pos: int) -> ReaderError:
        return ReaderError(f"{self.name}: truncated: {self.where} ends inside an element header: "
                           f"{self.size - pos} byte(s) at offset {pos} could not be parsed (a cut "
                           "element header or trailing garbage)")

    def _unparsed(self, pos: int, why: str) -> ReaderError:
        return ReaderError(f"{self.name}: {self.size - pos} byte(s) at offset {pos} of {self.where} "
                           f"could not be parsed ({why}: trailing garbage or a damaged file)")


_LITTLE_HEADER, _BIG_HEADER = struct.Struct("<HH2sH"), struct.Struct(">HH2sH")
_LITTLE_LONG, _BIG_LONG = struct.Struct("<I"), struct.Struct(">I")


@contextmanager
def _bytes_of(handle: IO[bytes], size: int) -> Iterator[Any]:
    """The whole source as a buffer: a read-only memory map of a file (nothing is copied, a
    multi-gigabyte file included), the bytes of an in-memory stream, else the stream read."""
    import mmap

    if size == 0:
        yield b""
        return
    try:
        fileno = handle.fileno()
    except (OSError, AttributeError, io.UnsupportedOperation):
        fileno = -1
    if fileno >= 0:
        with mmap.mmap(fileno, 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped
        return
    if isinstance(handle, io.BytesIO):
        yield handle.getvalue()
        return
    position = handle.tell()
    handle.seek(0)
    data = handle.read()
    handle.seek(position)
    yield data


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _truncated(name: str, tag: int, declared: int, present: int, where: str = "the file",
               what: str = "element") -> ReaderError:
    return ReaderError(f"{name}: truncated: {what} {_tag(tag)} declares {declared} bytes but "
                       f"{where} holds {max(present, 0)}")


@contextmanager
def _opened(source: Any, name: str) -> Iterator[tuple[IO[bytes], int]]:
    """Yield a binary handle and the total size of the source."""
    if isinstance(source, (str, os.PathLike)):
        try:
            handle = open(source, "rb")
        except OSError as err:
            raise ReaderError(f"{name}: cannot open: {err.strerror or err}") from err
        with handle:
            yield handle, os.fstat(handle.fileno()).st_size
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        yield io.BytesIO(data), len(data)
    elif hasattr(source, "read") and hasattr(source, "seek"):
        try:
            start = source.tell()
            size = source.seek(0, os.SEEK_END)
            source.seek(start)
        except (OSError, ValueError) as err:  # io.UnsupportedOperation is both
            raise ReaderError(f"{name}: cannot read: the stream is not seekable or is closed ({err})") from err
        yield source, size
    else:
        raise ReaderError(f"cannot read a {type(source).__name__}: give a path, bytes or a seekable binary stream")
