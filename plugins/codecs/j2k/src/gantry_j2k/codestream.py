"""The structure of a JPEG 2000 codestream (ISO/IEC 15444-1 Annex A), read in pure Python.

imagecodecs decodes pixels but says little when it fails ("opj_decode failed") and does not
report the precision or signedness of the components. This module walks the markers: it gives
those values, and says precisely what is wrong with a damaged stream (a cut tile-part, a
missing EOC, a corrupt marker) before any decoder sees it. Entropy-coded data has no checksum,
so damage inside it cannot be found here.

The same module ships in gantry-j2k and gantry-htj2k (separate distributions): keep them equal.
"""

from __future__ import annotations

import functools
import itertools
import struct
from dataclasses import dataclass

SOC, SIZ, COD, QCD, CAP, TLM, SOT, SOD, EOC = (
    0xFF4F, 0xFF51, 0xFF52, 0xFF5C, 0xFF50, 0xFF55, 0xFF90, 0xFF93, 0xFFD9)
PROGRESSIONS = ("LRCP", "RLCP", "RPCL", "PCRL", "CPRL")
MAX_TILES = 65535
# What may follow EOC: fragments are padded to even length, with 00 or (by several writers) ff.
PADDING = b"\x00\xff"
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


@dataclass(frozen=True)
class Component:
    precision: int
    signed: bool
    dx: int
    dy: int


@dataclass(frozen=True)
class Codestream:
    """What the main header and the tile-part structure say."""

    columns: int
    rows: int
    components: tuple[Component, ...]
    tiles: int
    progression: str
    layers: int
    mct: bool
    decompositions: int
    reversible: bool
    markers: frozenset[int]
    """Marker codes present in the main header (TLM, CAP ...)."""
    tile_parts: int
    length: int
    """Bytes up to and including EOC (what follows is padding)."""

    @property
    def precision(self) -> int:
        return self.components[0].precision

    @property
    def signed(self) -> bool:
        return self.components[0].signed


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def unpack(self, fmt: str, offset: int, what: str) -> tuple[int, ...]:
        layout = _layout(fmt)
        self.need(offset + layout.size, offset, what)
        return layout.unpack_from(self.data, offset)

    def need(self, end: int, offset: int, what: str) -> None:
        """Raise unless the data reaches ``end``: ``what``, from ``offset``, would run past it."""
        if end > len(self.data):
            raise ValueError(f"truncated JPEG 2000 codestream: {what} at offset {offset} needs {end - offset} "
                             f"bytes, {max(len(self.data) - offset, 0)} remain")


@functools.cache
def _layout(fmt: str) -> struct.Struct:
    return struct.Struct(fmt)


def unwrap_jp2(data: bytes) -> bytes:
    """The codestream inside a JP2 file (some writers wrap frames in JP2 against PS3.5 A.4.4);
    anything else is returned unchanged."""
    if not data.startswith(JP2_SIGNATURE):
        return data
    reader, offset = _Reader(data), 0
    while offset < len(data):
        size, kind = reader.unpack(">I4s", offset, "JP2 box header")
        header = 8
        if size == 1:
            (size,) = reader.unpack(">Q", offset + 8, "JP2 box length")
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            raise ValueError(f"corrupt JP2 file: box {kind!r} at offset {offset} has length {size}")
        if kind == b"jp2c":
            return data[offset + header:offset + size]
        offset += size
    raise ValueError("JP2 file without a codestream box (jp2c)")


def read(data: bytes) -> Codestream:
    """Check the structure of ``data`` and describe it; a ValueError says what is wrong."""
    if len(data) < 2 or data[:2] != b"\xff\x4f":
        start = data[:4].hex() or "nothing"
        raise ValueError(f"not a JPEG 2000 codestream: it starts with {start}, not the SOC marker ff4f")
    reader = _Reader(data)
    (marker,) = reader.unpack(">H", 2, "the SIZ marker")
    if marker != SIZ:
        raise ValueError(f"corrupt JPEG 2000 codestream: SOC is followed by {marker:04x}, not SIZ ff51")
    size, offset, markers = _read_siz(reader), 2, set()
    cod = None
    while True:
        (marker,) = reader.unpack(">H", offset, "a main header marker")
        if marker == SOT:
            break
        if marker >> 8 != 0xFF or marker < 0xFF4F:
            raise ValueError(f"corrupt JPEG 2000 main header: {marker:04x} at offset {offset} is not a marker")
        (length,) = reader.unpack(">H", offset + 2, f"the length of marker {marker:04x}")
        if length < 2:
            raise ValueError(f"corrupt JPEG 2000 main header: marker {marker:04x} has length {length}")
        reader.need(offset + 2 + length, offset + 2, f"marker segment {marker:04x}")
        if marker == COD:
            cod = _read_cod(reader, offset + 4, length)
        markers.add(marker)
        offset += 2 + length
    if cod is None or QCD not in markers:
        missing = " and ".join(name for name, code in (("COD", COD), ("QCD", QCD)) if code not in markers)
        raise ValueError(f"corrupt JPEG 2000 main header: no {missing} marker")
    parts, end = _walk_tile_parts(reader, offset, size["tiles"])
    return Codestream(columns=size["columns"], rows=size["rows"], components=size["components"],
                      tiles=size["tiles"], markers=frozenset(markers), tile_parts=parts, length=end, **cod)


def _read_siz(reader: _Reader) -> dict:
    (length, _rsiz, xsiz, ysiz, xo, yo, xt, yt, xto, yto, count) = reader.unpack(">HHIIIIIIIIH", 4, "SIZ")
    if count < 1 or length != 38 + 3 * count:
        raise ValueError(f"corrupt SIZ marker: {count} components in a segment of {length} bytes")
    if xsiz <= xo or ysiz <= yo or xt == 0 or yt == 0 or xto > xo or yto > yo:
        raise ValueError(f"corrupt SIZ marker: image {xsiz}x{ysiz} offset {xo},{yo}, tiles {xt}x{yt} "
                         f"offset {xto},{yto}")
    components = []
    for index in range(count):
        ssiz, dx, dy = reader.unpack(">BBB", 42 + 3 * index, "SIZ component")
        if (ssiz & 0x7F) > 37 or dx == 0 or dy == 0:
            raise ValueError(f"corrupt SIZ marker: component {index} has Ssiz {ssiz:#x}, subsampling {dx}x{dy}")
        components.append(Component(precision=(ssiz & 0x7F) + 1, signed=bool(ssiz & 0x80), dx=dx, dy=dy))
    tiles = -(-(xsiz - xto) // xt) * -(-(ysiz - yto) // yt)
    if tiles > MAX_TILES:  # tile indices are 16-bit; a corrupt size would make millions
        raise ValueError(f"corrupt SIZ marker: {tiles} tiles of {xt}x{yt} (at most {MAX_TILES})")
    return {"columns": xsiz - xo, "rows": ysiz - yo, "components": tuple(components), "tiles": tiles}


def _read_cod(reader: _Reader, offset: int, length: int) -> dict:
    if length < 12:
        raise ValueError(f"corrupt COD marker: {length} bytes")
    _scod, order, layers, mct, levels, _xcb, _ycb, _style, transform = reader.unpack(">BBHBBBBBB", offset, "COD")
    if order >= len(PROGRESSIONS) or transform > 1 or layers == 0 or levels > 32:
        raise ValueError(f"corrupt COD marker: progression {order}, {layers} layers, {levels} levels, "
                         f"transform {transform}")
    return {"progression": PROGRESSIONS[order], "layers": layers, "mct": bool(mct), "decompositions": levels,
            "reversible": transform == 1}


def _walk_tile_parts(reader: _Reader, offset: int, tiles: int) -> tuple[int, int]:
    """Follow the SOT lengths to EOC; a cut anywhere shows as a tile-part running past the end
    or a missing EOC. Returns (number of tile-parts, offset after EOC)."""
    data, seen, declared, parts = reader.data, {}, {}, 0
    while offset + 2 <= len(data) and data[offset:offset + 2] == b"\xff\x90":
        _marker, lsot, tile, psot, _part, count = reader.unpack(">HHHIBB", offset, "SOT")
        if lsot != 10 or tile >= tiles:
            raise ValueError(f"corrupt SOT marker at offset {offset}: length {lsot}, tile {tile} of {tiles}")
        if psot == 0:  # the last tile-part runs to EOC
            psot = _last_eoc(data, offset) - offset
        if psot < 14 or offset + psot > len(data):
            raise ValueError(f"truncated JPEG 2000 codestream: tile-part {parts} (tile {tile}) at offset "
                             f"{offset} declares {psot} bytes, {len(data) - offset} remain")
        _check_sod(reader, offset + 12, offset + psot)
        seen[tile] = seen.get(tile, 0) + 1
        if count:
            declared[tile] = count
        parts += 1
        offset += psot
    if offset + 2 > len(data):
        raise ValueError(f"truncated JPEG 2000 codestream: it ends at offset {len(data)} without the EOC marker")
    if data[offset:offset + 2] != b"\xff\xd9":
        raise ValueError(f"corrupt JPEG 2000 codestream: {data[offset:offset + 2].hex()} at offset {offset} "
                         f"where a tile-part (ff90) or EOC (ffd9) belongs")
    # Fewer tile-parts than TNsot declares means some were lost; more is a known encoder slip
    # (GDCM's GDCMJ2K_TextGBR.dcm declares 5 of its 6), which OpenJPEG decodes correctly.
    short = {tile: (seen[tile], n) for tile, n in declared.items() if seen[tile] < n}
    if len(seen) != tiles or short:
        missing = list(itertools.islice((tile for tile in range(tiles) if tile not in seen), 5))
        raise ValueError(f"incomplete JPEG 2000 codestream: {tiles - len(seen)} of {tiles} tiles missing "
                         f"(first {missing}), tile-parts found/declared {short}")
    trailing = data[offset + 2:]
    if trailing.strip(PADDING):
        raise ValueError(f"{len(trailing)} bytes of data follow the EOC marker at offset {offset}")
    return parts, offset + 2


def _last_eoc(data: bytes, start: int) -> int:
    end = len(data.rstrip(PADDING))
    if end < start + 2 or data[end - 2:end] != b"\xff\xd9":
        raise ValueError("truncated JPEG 2000 codestream: the last tile-part does not end with EOC")
    return end - 2


def _check_sod(reader: _Reader, offset: int, end: int) -> None:
    while offset < end:
        (marker,) = reader.unpack(">H", offset, "a tile-part header marker")
        if marker == SOD:
            return
        (length,) = reader.unpack(">H", offset + 2, "a tile-part header marker length")
        if marker >> 8 != 0xFF or length < 2:
            break
        offset += 2 + length
    raise ValueError(f"corrupt JPEG 2000 tile-part header before offset {end}: no SOD marker")


def with_precision(data: bytes, precision: int, signed: bool) -> bytes:
    """``data`` with every component's SIZ precision and signedness replaced."""
    reader = _Reader(data)
    (count,) = reader.unpack(">H", 40, "SIZ component count")
    header = bytearray(data[:42 + 3 * count])  # up to the end of SIZ: the rest is joined on, copied once
    for index in range(count):
        header[42 + 3 * index] = (0x80 if signed else 0) | (precision - 1)
    return b"".join((header, memoryview(data)[len(header):]))
