"""Fast header scan for indexing: a few top-level attributes as index text, without a Dataset.

An indexer needs some thirty attributes from every file (``gantry.storage.SCAN_KEYWORDS``) and
nothing else. :func:`scan` reads the first 16 KiB of a file, walks the element headers with
``struct`` (values it does not need are jumped over, sequences are walked item by item only when
their length is undefined) and renders the wanted values exactly as
:func:`gantry.header.text_values` renders them from ``pydicom.dcmread(path,
stop_before_pixels=True)``. That function is the reference; the tests compare against it file by
file.

What the fast path decodes itself: the common value representations with their usual content
(plain UIDs, integer and decimal strings, text without ISO 2022 escape sequences, binary
numbers, bytes). Anything unusual in a value (an escape sequence, a malformed number, an AE, AT
or UR value ...) is converted by pydicom's own element conversion, with the file's character
set, so the text is pydicom's by construction. Whole files the fast path leaves alone raise
:class:`ScanNotHandled` (a ReaderError), and ``Kernel.scan`` then reads them with the full
reader: Explicit VR Big Endian, Deflated, a Command Set, an implicit-VR File Meta, ambiguous
VRs in implicit files, or pydicom configured away from its defaults.

The walk goes on past the wanted attributes, reading headers only, up to Pixel Data, because a
file cut short is commonest there: the Pixel Data's declared length must fit in the file (for
encapsulated pixel data, its closing delimiter must be reached), and an image that ends before
its Pixel Data is truncated, as the full reader says too. Pixel values are never read.

Errors: :class:`~gantry.NotDicomError` for something that is not DICOM; otherwise a
:class:`~gantry.ReaderError` naming the file, the byte offset and what is wrong.
"""

from __future__ import annotations

import bisect
import codecs
import os
import re
import stat
import struct
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from pydicom import config as pydicom_config
from pydicom import hooks as pydicom_hooks

from gantry import NotDicomError, ReaderError
from gantry.header import text_of
from gantry.sources import describe_source

from gantry_part10.sniff import LONG_VRS, MAGIC, PREAMBLE_LENGTH, VRS, has_preamble, raw_encoding

FIRST_READ = 16 * 1024  # the whole header of most files; bigger files get more on demand
READ_AHEAD = 16 * 1024
SNIFF_BYTES = 256  # what the reader's sniff sees: the same bytes decide "not DICOM" here
DATASET_START = PREAMBLE_LENGTH + len(MAGIC)

UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
DELIMITER_GROUP = 0xFFFE
SEQUENCE_DELIMITER_BYTES = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
PIXEL_DATA_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # where stop_before_pixels stops
FIRST_PIXEL_DATA_TAG = min(PIXEL_DATA_TAGS)

TRANSFER_SYNTAX_TAG = 0x00020010
MEDIA_STORAGE_SOP_CLASS_TAG = 0x00020002
SPECIFIC_CHARACTER_SET_TAG = 0x00080005
SOP_CLASS_TAG = 0x00080016
ROWS_TAG = 0x00280010
META_GROUP, COMMAND_GROUP = 0x0002, 0x0000

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
NOT_HANDLED_SYNTAXES = {
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
}

TAG_AND_LENGTH = struct.Struct("<HHI")  # implicit VR element headers; item and delimiter headers
TAG_VR_SHORT_LENGTH = struct.Struct("<HH2sH")  # explicit VR element headers
LONG_LENGTH = struct.Struct("<I")
#: Every explicit VR -> whether its header has a 4-byte length (one look-up in the hot loop).
HAS_LONG_LENGTH = {vr: vr in LONG_VRS for vr in VRS}

#: A collected element: (VR as written or None in implicit VR, value or None for an undefined
#: length, offset of its header). A plain tuple: one is made per wanted element of every file.
Found = tuple[bytes | None, bytes | None, int]


class ScanNotHandled(ReaderError):
    """The fast scan leaves this file to the full reader (``Kernel.scan`` falls back to it)."""


def scan(path: str | os.PathLike[str] | bytes | memoryview | list[Any] | tuple[Any, ...],
         keywords: Sequence[str]) -> dict[str, str]:
    """The listed top-level attributes of the file at ``path`` (or of a file's bytes: a
    received instance, whole or as a list or tuple of pieces) as index text.

    Equal to ``gantry.header.text_values(pydicom.dcmread(path, stop_before_pixels=True),
    keywords)``; ``TransferSyntaxUID`` comes from the File Meta, or, for a dataset without one,
    is the encoding it was read in (as the part10 reader records it).
    """
    plan = _plan_for(tuple(keywords))
    if not _pydicom_has_default_settings():
        raise ScanNotHandled(f"{describe_source(path)}: not handled by the fast scan: pydicom's "
                             "reading options are not its defaults (offset 0)")
    with _source_of(path) as source:
        header = _HeaderWalk(source, plan.collect)
        header.run()
    return _render(header, plan, source.name)


# -- what to collect ------------------------------------------------------------------------


class _Plan(NamedTuple):
    wanted: tuple[tuple[str, int], ...]  # (keyword, tag) in the caller's order; tag -1: TransferSyntaxUID
    collect: frozenset[int]  # the wanted tags plus those the walk itself needs
    dictionary_vr: dict[int, str]
    implicit_renderers: dict[int, Renderer]  # by tag, for implicit VR: from the dictionary's VR


@lru_cache(maxsize=64)
def _plan_for(keywords: tuple[str, ...]) -> _Plan:
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    wanted: list[tuple[str, int]] = []
    for keyword in keywords:
        if keyword == "TransferSyntaxUID":
            wanted.append((keyword, -1))  # from the File Meta, as text_values takes it
            continue
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise KeyError(f"{keyword!r} is not a DICOM keyword")  # as text_values says it
        wanted.append((keyword, tag))
    collect = frozenset(tag for _, tag in wanted if tag >= 0) | {
        SPECIFIC_CHARACTER_SET_TAG, SOP_CLASS_TAG, ROWS_TAG}
    vrs = {tag: dictionary_VR(tag) for tag in collect}
    implicit_renderers = {tag: _QUICK_RENDERERS[vr.encode()] for tag, vr in vrs.items()
                          if vr.encode() in _QUICK_RENDERERS}  # not "US or SS" and the like
    return _Plan(tuple(wanted), collect, vrs, implicit_renderers)


def _pydicom_has_default_settings() -> bool:
    """The fast path reproduces pydicom's conversions under its default settings only."""
    config, hooks = pydicom_config, pydicom_hooks
    return (not config.datetime_conversion and not config.use_DS_numpy
            and not config.use_IS_numpy and not config.use_DS_decimal
            and config.replace_un_with_known_vr and config.settings.infer_sq_for_un_vr
            and config.data_element_callback is None
            and config.settings.reading_validation_mode != config.RAISE
            and hooks.hooks.raw_element_vr is hooks.raw_element_vr
            and hooks.hooks.raw_element_value is hooks.raw_element_value
            and not hooks.hooks.raw_element_kwargs)


# -- reading the file -----------------------------------------------------------------------


class _Source:
    """A file read through a window: ``data`` holds the bytes from offset ``base`` on."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as err:
            raise ReaderError(f"{self.name}: cannot open: {err.strerror or err}") from err
        try:
            status = os.fstat(self.fd)
            if not stat.S_ISREG(status.st_mode):
                raise ReaderError(f"{self.name}: not a regular file (offset 0)")
            self.size = status.st_size
            self.data = os.read(self.fd, min(FIRST_READ, self.size))
        except OSError as err:
            os.close(self.fd)
            raise ReaderError(f"{self.name}: cannot read: {err.strerror or err} (offset 0)") from err
        except BaseException:
            os.close(self.fd)
            raise
        self.base = 0

    @property
    def name(self) -> str:
        return describe_source(self.path)

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    #: How a truncation message names the end (``the file ends at byte N``).
    end_is = "the file ends"

    def at(self, pos: int, count: int, what: str) -> int:
        """The index in ``data`` of ``count`` bytes at file offset ``pos``, reading if needed."""
        index = pos - self.base
        if index >= 0 and index + count <= len(self.data):
            return index
        if pos + count > self.size:
            raise ReaderError(f"{self.name}: truncated: {what} at offset {pos} needs {count} "
                              f"bytes but {self.end_is} at byte {self.size}")
        self._load(pos, count, what)
        self.base = pos
        return 0

    def _load(self, pos: int, count: int, what: str) -> None:
        """Make ``data`` the window from ``pos`` on: ``count`` bytes at least."""
        try:
            self.data = os.pread(self.fd, max(count, min(READ_AHEAD, self.size - pos)), pos)
        except OSError as err:
            raise ReaderError(f"{self.name}: cannot read at offset {pos}: {err.strerror or err}") from err
        if len(self.data) < count:  # the file shrank under us
            raise ReaderError(f"{self.name}: truncated: {what} at offset {pos} needs {count} "
                              f"bytes but reading stopped at byte {pos + len(self.data)}")

    def bytes_at(self, pos: int, count: int, what: str) -> bytes:
        index = self.at(pos, count, what)
        return self.data[index:index + count]


class _BytesSource(_Source):
    """A file's bytes already in memory, read through the same interface."""

    end_is = "the data end"

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.path = "received bytes"
        self.data = bytes(data) if isinstance(data, memoryview) else data
        self.size = len(self.data)
        self.base = 0

    @property
    def name(self) -> str:
        return self.path

    def __exit__(self, *exc: object) -> None:
        pass

    def at(self, pos: int, count: int, what: str) -> int:
        if pos + count > self.size:
            raise ReaderError(f"{self.name}: truncated: {what} at offset {pos} needs {count} "
                              f"bytes but {self.end_is} at byte {self.size}")
        return pos


class _PiecesSource(_BytesSource):
    """A file's bytes in memory as consecutive pieces (a received instance's PDU fragments), read
    through a window as a file is: each window is copied from the piece that holds it, or joined
    across pieces, only as far as the walk goes (pixel data is never read)."""

    def __init__(self, pieces: Sequence[bytes | bytearray | memoryview]) -> None:
        self.path = "received bytes"
        self.pieces = [memoryview(piece).cast("B") for piece in pieces]
        self.starts = []
        offset = 0
        for piece in self.pieces:
            self.starts.append(offset)
            offset += piece.nbytes
        self.size = offset
        self.data, self.base = b"", 0
        self.at(0, min(FIRST_READ, self.size), "the start")

    at = _Source.at  # the window, not the whole data as _BytesSource has it

    def _load(self, pos: int, count: int, what: str) -> None:
        want = min(max(count, READ_AHEAD), self.size - pos)
        parts, number = [], bisect.bisect_right(self.starts, pos) - 1
        offset, left = pos - self.starts[number], want
        while left > 0:
            piece = self.pieces[number][offset:offset + left]
            parts.append(piece)
            left -= piece.nbytes
            number, offset = number + 1, 0
        self.data = bytes(parts[0]) if len(parts) == 1 else b"".join(parts)


def _source_of(path: Any) -> _Source:
    if isinstance(path, bytes | bytearray | memoryview):
        return _BytesSource(path)
    if isinstance(path, list | tuple):
        return _PiecesSource(path)
    return _Source(path)


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _looks_implicit(vr: bytes) -> bool:
    """pydicom's test of a dataset's first element: a VR is two capital letters."""
    return not (len(vr) == 2 and 0x40 < vr[0] < 0x5B and 0x40 < vr[1] < 0x5B)


class _HeaderWalk:
    """Walks a file's element headers, as pydicom would parse them, keeping the values of the
    ``collect`` tags. After :meth:`run`: ``meta`` and ``found`` (tag -> :data:`Found`) and
    ``syntax_from_encoding`` (the Transfer Syntax a dataset without one was read in)."""

    def __init__(self, source: _Source, collect: frozenset[int]) -> None:
        self.source = source
        self.collect = collect
        self.meta: dict[int, Found] = {}
        self.found: dict[int, Found] = {}
        self.syntax_from_encoding = ""

    def run(self) -> None:
        source = self.source
        head = source.data[:SNIFF_BYTES]
        if has_preamble(head):
            pos = DATASET_START
        elif raw_encoding(head) is not None:
            pos = 0  # a dataset without preamble (and perhaps without File Meta)
        else:
            raise NotDicomError(f"{source.name} is not DICOM: no 'DICM' at byte 128 and the first "
                                "bytes are not a DICOM element (offset 0)")
        pos = self._file_meta(pos)
        if pos >= source.size:
            raise ReaderError(f"{source.name}: truncated: the file ends at byte {source.size}, in or "
                              "right after the File Meta Information; it holds no dataset")
        implicit = self._dataset_encoding(pos)
        self._top_level(pos, implicit)

    # -- File Meta and encoding ---------------------------------------------------------------

    def _file_meta(self, pos: int) -> int:
        """Read group 0002 (always explicit VR little endian); return where the dataset starts."""
        source = self.source
        previous = -1
        while pos + 6 <= source.size:
            index = pos - source.base
            if index < 0 or index + 6 > len(source.data):
                index = source.at(pos, 6, "an element header")
            data = source.data
            if data[index] | data[index + 1] << 8 != META_GROUP:
                break
            if previous < 0 and _looks_implicit(data[index + 4:index + 6]):
                raise self._not_handled(pos, "a File Meta Information in implicit VR")
            tag, vr, length, start = self._header(pos, implicit=False)
            if tag <= previous:
                raise self._out_of_order(pos, tag, previous)
            previous = tag
            if length == UNDEFINED_LENGTH:
                raise self._not_handled(pos, f"File Meta element {_tag(tag)} of undefined length")
            if start + length > source.size:
                raise self._truncated(pos, tag, length)
            if tag == TRANSFER_SYNTAX_TAG or tag == MEDIA_STORAGE_SOP_CLASS_TAG:
                self.meta[tag] = (vr, source.bytes_at(start, length, "a value"), pos)
            pos = start + length
        return pos

    def _dataset_encoding(self, pos: int) -> bool:
        """Whether the dataset at ``pos`` is implicit VR, decided the way pydicom decides it."""
        source = self.source
        index = source.at(pos, min(6, source.size - pos), "an element header")
        first = source.data[index:index + 6]
        group = int.from_bytes(first[:2], "little")
        if group == COMMAND_GROUP and len(first) >= 2:
            raise self._not_handled(pos, "a Command Set (group 0000) before the dataset")
        transfer_syntax = self.meta.get(TRANSFER_SYNTAX_TAG)
        if transfer_syntax is None:
            # No Transfer Syntax: explicit VR if the first VR is one; big endian if that
            # element's group, read little endian, is 1024 or more (pydicom's guess).
            implicit = first[4:6] not in VRS
            if not implicit and group >= 1024:
                raise self._not_handled(pos, "a dataset without Transfer Syntax in big endian")
            self.syntax_from_encoding = IMPLICIT_VR_LITTLE_ENDIAN if implicit else EXPLICIT_VR_LITTLE_ENDIAN
        else:
            syntax = _uid_value(TRANSFER_SYNTAX_TAG, transfer_syntax)
            if syntax in NOT_HANDLED_SYNTAXES:
                raise self._not_handled(pos, NOT_HANDLED_SYNTAXES[syntax])
            if syntax and _is_private_syntax(syntax):
                raise self._not_handled(pos, f"the private transfer syntax {syntax}")
            implicit = syntax == IMPLICIT_VR_LITTLE_ENDIAN
        if len(first) < 6:
            return implicit
        # pydicom reads the dataset as what its first element looks like, whatever the syntax says.
        return _looks_implicit(first[4:6])

    # -- the dataset ----------------------------------------------------------------------------

    def _top_level(self, pos: int, implicit: bool) -> None:
        """Walk the top-level elements up to Pixel Data (or the end), keeping wanted values.

        The hot loop of the scan: headers inside the window are parsed inline; anything else
        (the window's edge, an odd VR, the end of the file) goes through :meth:`_header`.
        """
        source, collect, found = self.source, self.collect, self.found
        size = source.size
        data, base = source.data, source.base
        window_end = base + len(data)
        previous = -1
        while pos < size:
            if base <= pos and pos + 12 <= window_end:
                index = pos - base
                if implicit:
                    group, element, length = TAG_AND_LENGTH.unpack_from(data, index)
                    vr, start = None, pos + 8
                else:
                    group, element, vr, length = TAG_VR_SHORT_LENGTH.unpack_from(data, index)
                    long_length = HAS_LONG_LENGTH.get(vr)
                    if long_length:
                        length, start = LONG_LENGTH.unpack_from(data, index + 8)[0], pos + 12
                    elif long_length is not None:
                        start = pos + 8
                    else:  # a delimiter or a bad VR: the careful path says which
                        _, vr, length, start = self._header(pos, implicit)
                tag = group << 16 | element
            else:
                tag, vr, length, start = self._header(pos, implicit)
                data, base = source.data, source.base
                window_end = base + len(data)
            if tag <= previous:
                raise self._out_of_order(pos, tag, previous)
            if tag >= FIRST_PIXEL_DATA_TAG:
                if tag in PIXEL_DATA_TAGS:
                    self._check_pixel_data(pos, tag, length, start, implicit)
                    return
                if tag >> 16 == DELIMITER_GROUP:
                    raise self._error(pos, f"an item or delimiter tag {_tag(tag)} outside any sequence")
            previous = tag
            if length == UNDEFINED_LENGTH:
                if tag in collect:
                    found[tag] = (vr, None, pos)
                pos = self._skip_undefined_length(start, implicit, tag)
                data, base = source.data, source.base
                window_end = base + len(data)
                continue
            end = start + length
            if end > size:
                raise self._truncated(pos, tag, length)
            if tag in collect:
                if base <= start and end <= window_end:
                    found[tag] = (vr, data[start - base:end - base], pos)
                else:
                    found[tag] = (vr, source.bytes_at(start, length, "a value"), pos)
                    data, base = source.data, source.base
                    window_end = base + len(data)
            pos = end
        self._check_end_without_pixel_data(previous)

    def _header(self, pos: int, implicit: bool) -> tuple[int, bytes | None, int, int]:
        """``(tag, VR as written or None, length, offset of the value)`` of the element at ``pos``."""
        source = self.source
        data = source.data
        index = pos - source.base
        if index < 0 or index + 12 > len(data):  # near the window's edge (or the file's end)
            index = source.at(pos, 8, "an element header")
            data = source.data
        if implicit:
            group, element, length = TAG_AND_LENGTH.unpack_from(data, index)
            return group << 16 | element, None, length, pos + 8
        group, element, vr, length = TAG_VR_SHORT_LENGTH.unpack_from(data, index)
        if vr in LONG_VRS:
            index = source.at(pos, 12, "an element header")
            return group << 16 | element, vr, LONG_LENGTH.unpack_from(source.data, index + 8)[0], pos + 12
        if vr in VRS:
            return group << 16 | element, vr, length, pos + 8
        if group == DELIMITER_GROUP:  # items and delimiters have no VR, in any encoding
            return group << 16 | element, None, TAG_AND_LENGTH.unpack_from(data, index)[2], pos + 8
        raise self._error(pos, f"element {_tag(group << 16 | element)} has an invalid VR {vr!r}")

    def _skip(self, start: int, length: int, tag: int) -> int:
        end = start + length
        if end > self.source.size:
            raise self._truncated(start, tag, length)
        return end

    def _skip_undefined_length(self, pos: int, implicit: bool, tag: int) -> int:
        """Skip the items of an undefined-length value starting at ``pos``; return the offset
        after its Sequence Delimitation Item.

        Works for sequences (nested ones too) and for encapsulated data alike: items of defined
        length are jumped over, items of undefined length are walked element by element. An
        explicit-VR item may hold implicit VR (PS3.5 6.2.2), decided per item as pydicom does.
        No recursion: a crafted file cannot nest its way to a RecursionError.
        """
        # One entry per open container: (inside an item?, implicit VR there / assumed for items).
        open_containers: list[tuple[bool, bool]] = [(False, implicit)]
        while open_containers:
            in_item, item_implicit = open_containers[-1]
            if in_item:
                element_tag, _, length, start = self._header(pos, item_implicit)
                if element_tag == ITEM_DELIMITER:
                    open_containers.pop()
                    pos = start
                elif element_tag >> 16 == DELIMITER_GROUP:
                    raise self._error(pos, f"{_tag(element_tag)} inside an item of {_tag(tag)} "
                                           "(an item that is never closed)")
                elif length == UNDEFINED_LENGTH:
                    open_containers.append((False, item_implicit))
                    pos = start
                else:
                    pos = self._skip(start, length, element_tag)
                continue
            index = self.source.at(pos, 8, f"an item header in {_tag(tag)}")
            group, element, length = TAG_AND_LENGTH.unpack_from(self.source.data, index)
            item_tag = group << 16 | element
            if item_tag == SEQUENCE_DELIMITER:
                open_containers.pop()
                pos += 8
            elif item_tag != ITEM:
                raise self._error(pos, f"{_tag(item_tag)} where an item or the end of "
                                       f"{_tag(tag)} should be")
            elif length == UNDEFINED_LENGTH:
                open_containers.append((True, self._item_is_implicit(pos + 8, item_implicit)))
                pos += 8
            else:
                pos = self._skip(pos + 8, length, ITEM)
        return pos

    def _item_is_implicit(self, pos: int, assumed: bool) -> bool:
        if assumed or pos + 6 > self.source.size:
            return assumed
        index = self.source.at(pos, 6, "an element header")
        return _looks_implicit(self.source.data[index + 4:index + 6])

    # -- the end ----------------------------------------------------------------------------

    def _check_pixel_data(self, pos: int, tag: int, length: int, start: int, implicit: bool) -> None:
        """A file cut in its Pixel Data is truncated: check the length, without reading pixels."""
        size = self.source.size
        if length != UNDEFINED_LENGTH:
            if start + length > size:
                raise self._truncated(pos, tag, length)
            return
        # Encapsulated: a whole file (nearly always) ends with the Sequence Delimitation Item;
        # otherwise walk the fragment headers to find where the value ends, or that it doesn't.
        if size - start >= 8 and self.source.bytes_at(size - 8, 8, "the end") == SEQUENCE_DELIMITER_BYTES:
            return
        self._skip_undefined_length(start, implicit, tag)

    def _check_end_without_pixel_data(self, last_tag: int) -> None:
        """The full reader's rule: an image that ends before its Pixel Data is truncated."""
        kind = _image_kind(self.found, self.meta)
        if kind:
            raise ReaderError(f"{self.source.name}: truncated: an image ({kind}) without Pixel Data: "
                              f"the file ends at byte {self.source.size}, after element {_tag(last_tag)}")

    # -- errors -----------------------------------------------------------------------------

    def _error(self, pos: int, what: str) -> ReaderError:
        return ReaderError(f"{self.source.name}: at offset {pos}: {what}")

    def _out_of_order(self, pos: int, tag: int, previous: int) -> ReaderError:
        return self._error(pos, f"element {_tag(tag)} is out of order after {_tag(previous)}")

    def _truncated(self, pos: int, tag: int, length: int) -> ReaderError:
        return ReaderError(f"{self.source.name}: truncated: element {_tag(tag)} at offset {pos} "
                           f"declares {length} bytes but the file ends at byte {self.source.size}")

    def _not_handled(self, pos: int, what: str) -> ScanNotHandled:
        return ScanNotHandled(f"{self.source.name}: not handled by the fast scan: {what} "
                              f"(offset {pos}); the full reader reads it")


def _image_kind(found: dict[int, Found], meta: dict[int, Found]) -> str:
    """Why the dataset must hold Pixel Data ("" when it need not), as the full reader decides."""
    from pydicom.uid import UID

    for holder, tag in ((found, SOP_CLASS_TAG), (meta, MEDIA_STORAGE_SOP_CLASS_TAG)):
        element = holder.get(tag)
        if element is None or not element[1]:
            continue
        try:
            name = UID(_uid_value(tag, element)).name
        except Exception:  # a damaged value tells us nothing, as in the full reader
            continue
        if "Image Storage" in name:
            return name
    return "it has Rows" if ROWS_TAG in found else ""


@lru_cache(maxsize=16)
def _is_private_syntax(syntax: str) -> bool:
    from pydicom.uid import PrivateTransferSyntaxes

    return syntax in PrivateTransferSyntaxes


# -- rendering ------------------------------------------------------------------------------


def _render(header: _HeaderWalk, plan: _Plan, name: str) -> dict[str, str]:
    found = header.found
    charset = _charset_of(found.get(SPECIFIC_CHARACTER_SET_TAG))
    quick, implicit_quick = _QUICK_RENDERERS, plan.implicit_renderers
    values: dict[str, str] = {}
    for keyword, tag in plan.wanted:
        if tag < 0:
            text = _transfer_syntax_text(header)
        else:
            element = found.get(tag)
            if element is None:
                continue
            # (0008,0005) itself is read in the default repertoire, as pydicom does.
            value_charset = DEFAULT_CHARSET if tag == SPECIFIC_CHARACTER_SET_TAG else charset
            # The common case first: a VR (written, or the dictionary's) that a renderer handles.
            renderer = quick.get(element[0]) if element[0] is not None else implicit_quick.get(tag)
            text = renderer(element[1], value_charset) if renderer is not None and element[1] else None
            if text is None:
                text = _element_text(tag, element, plan.dictionary_vr[tag], value_charset, name)
        if text:
            values[keyword] = text
    return values


def _transfer_syntax_text(header: _HeaderWalk) -> str:
    element = header.meta.get(TRANSFER_SYNTAX_TAG)
    if element is None:
        return header.syntax_from_encoding  # what the part10 reader records in the File Meta
    stripped = (element[1] or b"").rstrip(b"\x00 ")
    if not stripped.translate(None, _UID_CHARACTERS):  # a plain UID: pydicom's text is itself
        return stripped.decode("ascii")
    try:
        converted = _pydicom_element(TRANSFER_SYNTAX_TAG, element, DEFAULT_CHARSET).value
    except Exception as err:  # pydicom cannot convert it either: the file is at fault
        raise ReaderError(f"{header.source.name}: the File Meta's Transfer Syntax UID at offset "
                          f"{element[2]} cannot be converted ({type(err).__name__})") from err
    return str(converted).strip(" \x00") if converted else ""


def _uid_value(tag: int, element: Found) -> str:
    """A UI value as pydicom compares it: the UID, or "" for anything but a single UID."""
    stripped = (element[1] or b"").rstrip(b"\x00 ")
    if not stripped.translate(None, _UID_CHARACTERS):
        return stripped.decode("ascii")
    value = _pydicom_element(tag, element, DEFAULT_CHARSET).value
    return str(value) if isinstance(value, str) else ""


def _element_text(tag: int, element: Found, dictionary_vr: str, charset: _Charset, name: str) -> str:
    written_vr, value, offset = element
    # The VR pydicom gives the element: the dictionary's in implicit VR and for a known tag
    # written as UN (unless its value is 64 KiB or more), else the one written.
    if written_vr is None or (written_vr == b"UN" and (value is None or len(value) < 0xFFFF)):
        vr = dictionary_vr
    else:
        vr = _VR_NAMES[written_vr]
    if " or " in vr:  # pydicom resolves "US or SS" and the like from other attributes
        raise ScanNotHandled(f"{name}: not handled by the fast scan: element {_tag(tag)} at offset "
                             f"{offset} has the ambiguous VR {vr!r}")
    if value is None:  # undefined length: a sequence is no index text
        if vr == "SQ" or written_vr == b"UN":
            return ""
        raise ScanNotHandled(f"{name}: not handled by the fast scan: element {_tag(tag)} at offset "
                             f"{offset} has an undefined length but is no sequence")
    if not value or vr == "SQ":
        return ""
    renderer = _RENDERERS.get(vr)
    if renderer is not None and tag not in _LUT_DESCRIPTORS:
        text = renderer(value, charset)
        if text is not None:
            return text
    try:
        converted = _pydicom_element(tag, element, charset)
    except Exception as err:  # pydicom cannot convert it either: the file is at fault
        # pydicom's message quotes the value (patient data, perhaps): name its type only.
        raise ReaderError(f"{name}: element {_tag(tag)} at offset {offset}: its {vr} value cannot be "
                          f"converted ({type(err).__name__})") from err
    return "" if converted.VR == "SQ" else text_of(converted.value, converted.VR)


_VR_NAMES = {vr: vr.decode("ascii") for vr in VRS}


def _pydicom_element(tag: int, element: Found, charset: _Charset) -> Any:
    """pydicom's own conversion of one element (the slow path for unusual values)."""
    from pydicom.dataelem import RawDataElement, convert_raw_data_element
    from pydicom.tag import BaseTag

    written_vr, value, offset = element
    value = value or b""
    vr = written_vr.decode("ascii") if written_vr is not None else None
    raw = RawDataElement(BaseTag(tag), vr, len(value), value, offset, vr is None, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's validation warnings quote the value (PHI)
        return convert_raw_data_element(raw, encoding=charset.encodings)


class _Charset(NamedTuple):
    encodings: list[str]  # Python codecs, as pydicom.charset.convert_encodings gives them
    first: str  # the codec pydicom decodes a value without escape sequences with ("": none)


@lru_cache(maxsize=256)
def _charset_for(written_vr: bytes | None, value: bytes) -> _Charset:
    from pydicom.charset import convert_encodings

    element = (written_vr, value, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a misspelt character set: pydicom warns and corrects
        encodings = convert_encodings(_pydicom_element(SPECIFIC_CHARACTER_SET_TAG, element,
                                                       DEFAULT_CHARSET).value)
    try:
        # The codec's canonical name: bytes.decode knows "iso8859-1" and "utf-8" without a
        # registry look-up, not pydicom's spellings ("iso8859", "UTF8"). Same codec either way.
        first = codecs.lookup(encodings[0]).name
    except LookupError:  # pydicom falls back with a warning; leave such text to pydicom
        first = ""
    return _Charset(encodings, first)


def _charset_of(element: Found | None) -> _Charset:
    if element is None or not element[1]:
        return DEFAULT_CHARSET
    return _charset_for(element[0], element[1])


DEFAULT_CHARSET = _Charset(["iso8859"], codecs.lookup("iso8859").name)


def _decoded(value: bytes, charset: _Charset) -> str | None:
    """pydicom's decode_bytes for a value without ISO 2022 escape sequences (None otherwise)."""
    if b"\x1b" in value or not charset.first:
        return None
    try:
        return value.decode(charset.first)
    except UnicodeError:
        return value.decode(charset.first, "replace")  # pydicom warns and does the same


def _joined(text: str, strip_leading: bool) -> str:
    """Several values joined by backslashes, each with its padding removed (gantry.header)."""
    if "\\" not in text:
        text = text.rstrip(" \x00")
        return text.lstrip(" ") if strip_leading else text
    if strip_leading:
        return "\\".join(item.rstrip(" \x00").lstrip(" ") for item in text.split("\\"))
    return "\\".join(item.rstrip(" \x00") for item in text.split("\\"))


# Each renderer returns the index text of a non-empty value, or None to let pydicom convert it.
Renderer = Callable[[bytes, _Charset], "str | None"]


def _default_repertoire_strings(value: bytes, charset: _Charset) -> str | None:
    # AS, CS, DA, DT, TM: pydicom decodes these as ISO 8859-1 whatever the character set.
    text = value.decode("latin_1")
    return text.rstrip(" \x00").lstrip(" ") if "\\" not in text else _joined(text, strip_leading=True)


def _text_strings(strip_leading: bool) -> Renderer:
    def render(value: bytes, charset: _Charset) -> str | None:  # SH, LO, UC
        text = _decoded(value, charset)
        if text is None or "\\" in text:
            return None if text is None else _joined(text, strip_leading)
        text = text.rstrip(" \x00")
        return text.lstrip(" ") if strip_leading else text
    return render


def _single_text(value: bytes, charset: _Charset) -> str | None:
    # ST, LT, UT: one value, backslashes included; only trailing padding goes.
    text = _decoded(value, charset)
    return None if text is None else text.rstrip(" \x00")


def _person_names(value: bytes, charset: _Charset) -> str | None:
    stripped = value.rstrip(b"\x00 ")
    if b"\x1b" in stripped or not charset.first:
        return None
    try:
        text = stripped.decode(charset.first)
    except UnicodeError:
        return None  # pydicom re-encodes replacement characters its own way
    # A PersonName prints its component groups without the empty ones at the end.
    if "\\" not in text:
        return text.rstrip("=").rstrip(" \x00").lstrip(" ")
    return "\\".join(name.rstrip("=").rstrip(" \x00").lstrip(" ") for name in text.split("\\"))


_UID_CHARACTERS = b"0123456789.\\"


def _uids(value: bytes, charset: _Charset) -> str | None:
    stripped = value.rstrip(b"\x00 ")
    if stripped.translate(None, _UID_CHARACTERS):
        return None  # spaces inside, letters ...: pydicom's UID class decides
    return stripped.decode("ascii")


_INTEGER_STRINGS = re.compile(rb"( *[+-]?[0-9]+ *)(\\ *[+-]?[0-9]+ *)*[ \x00]*")
_DECIMAL = rb" *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *"
_DECIMAL_STRINGS = re.compile(_DECIMAL + rb"(\\" + _DECIMAL + rb")*[ \x00]*")


def _number_strings(pattern: re.Pattern[bytes], plain: Callable[[bytes], bool]) -> Renderer:
    def render(value: bytes, charset: _Charset) -> str | None:  # IS, DS
        number = value.rstrip(b" \x00").lstrip(b" ")
        if plain(number):  # the usual single unsigned number: no pattern needed
            return number.decode("ascii")
        if pattern.fullmatch(value) is None:
            return None  # not a plain number: pydicom's IS/DS classes and retries decide
        # The text is each number as written (pydicom keeps it as original_string).
        return "\\".join(item.strip(" ") for item in value.rstrip(b" \x00").decode("ascii").split("\\"))
    return render


def _binary_numbers(code: str) -> Renderer:
    size = struct.calcsize("<" + code)
    single = struct.Struct("<" + code)
    as_text: Callable[[Any], str] = repr if code in "fd" else str

    def render(value: bytes, charset: _Charset) -> str | None:
        if len(value) == size:
            return as_text(single.unpack(value)[0])
        if len(value) % size:
            return None  # pydicom raises on a length that is no multiple: let it say so
        return "\\".join(map(as_text, struct.unpack(f"<{len(value) // size}{code}", value)))
    return render


def _raw_bytes(value: bytes, charset: _Charset) -> str | None:
    return value.decode("ascii", "replace").rstrip(" \x00")


_RENDERERS: dict[str, Renderer] = {
    **dict.fromkeys(("AS", "CS", "DA", "DT", "TM"), _default_repertoire_strings),
    "SH": _text_strings(strip_leading=True),
    "LO": _text_strings(strip_leading=True),
    "UC": _text_strings(strip_leading=False),
    **dict.fromkeys(("ST", "LT", "UT"), _single_text),
    "PN": _person_names,
    "UI": _uids,
    "IS": _number_strings(_INTEGER_STRINGS, bytes.isdigit),
    "DS": _number_strings(_DECIMAL_STRINGS, lambda number: number.replace(b".", b"", 1).isdigit()),
    "US": _binary_numbers("H"), "SS": _binary_numbers("h"),
    "UL": _binary_numbers("L"), "SL": _binary_numbers("l"),
    "UV": _binary_numbers("Q"), "SV": _binary_numbers("q"),
    "FL": _binary_numbers("f"), "FD": _binary_numbers("d"),
    **dict.fromkeys(("OB", "OD", "OF", "OL", "OV", "OW", "UN"), _raw_bytes),
    # AE, AT, UR and anything else: pydicom converts them.
}

#: Renderers by VR as written, for the VRs pydicom keeps as written. Not UN (pydicom takes the
#: tag's own VR) nor SS (a LUT Descriptor's first value is corrected): the careful path has those.
#: US stays: the LUT Descriptor correction only changes negative values, which US cannot hold.
_QUICK_RENDERERS: dict[bytes, Renderer] = {
    vr.encode(): renderer for vr, renderer in _RENDERERS.items() if vr not in ("UN", "SS")
}

# pydicom corrects the first value of these (a negative count read as SS); leave them to it.
_LUT_DESCRIPTORS = frozenset({0x00281101, 0x00281102, 0x00281103, 0x00283002})
