"""multipart/related (RFC 2387, RFC 2046) for DICOMweb: media-type parsing, writing responses,
and an incremental parser that spools each part of a STOW-RS body to its own file.

The parser is fed chunks as they arrive and keeps in memory only what it has not yet written
(a few bytes of a delimiter that may continue in the next chunk, or a part's header block, at
most :data:`MAX_HEADER_BYTES`). A body is accepted only when its closing delimiter arrived:
anything else (a truncated upload, a missing or garbled delimiter line, no parts) is a
:class:`MultipartError`, and the caller stores nothing from it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

MAX_HEADER_BYTES = 16 * 1024
#: How much of a preamble (text before the first delimiter) is tolerated.
MAX_PREAMBLE_BYTES = 64 * 1024


class MultipartError(ValueError):
    """A malformed multipart body (answered 400)."""


@attrs.frozen
class MediaType:
    """``type/subtype`` (lower case) and its parameters (names lower case, values unquoted)."""

    value: str
    params: dict[str, str] = attrs.field(factory=dict)

    @property
    def quality(self) -> float:
        try:
            return float(self.params.get("q", "1"))
        except ValueError:
            return 0.0


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    pieces, current, quoted, escaped = [], [], False, False
    for character in text:
        if escaped:
            current.append(character)
            escaped = False
        elif character == "\\" and quoted:
            current.append(character)
            escaped = True
        elif character == '"':
            current.append(character)
            quoted = not quoted
        elif character == separator and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(character)
    pieces.append("".join(current))
    return pieces


def parse_media_type(text: str) -> MediaType:
    """``multipart/related; type="application/dicom"; boundary=x`` -> MediaType."""
    head, *rest = _split_outside_quotes(text, ";")
    params: dict[str, str] = {}
    for item in rest:
        name, separator, value = item.partition("=")
        if not separator:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[name.strip().lower()] = value
    return MediaType(head.strip().lower(), params)


def parse_accept(text: str | None) -> list[MediaType]:
    """The media ranges of an Accept header, best first (by q, stable); ``*/*`` when absent."""
    if not text or not text.strip():
        return [MediaType("*/*")]
    ranges = [parse_media_type(piece) for piece in _split_outside_quotes(text, ",") if piece.strip()]
    ranges = [media for media in ranges if media.quality > 0]
    return sorted(ranges, key=lambda media: -media.quality)


def new_boundary() -> str:
    return f"gantry-{uuid.uuid4().hex}"


def write_parts(boundary: str, parts: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    """A multipart body: for each ``(content type, chunks)``, one part with that Content-Type."""
    dash = f"--{boundary}".encode("ascii")
    for content_type, chunks in parts:
        yield dash + b"\r\nContent-Type: " + content_type.encode("ascii") + b"\r\n\r\n"
        for chunk in chunks:
            if chunk:
                yield chunk
        yield b"\r\n"
    yield dash + b"--\r\n"


#: How much a streamed answer gathers before handing it on: starlette runs each ``next()`` of a
#: synchronous body in a worker thread, so many small chunks (a part's header, each read, its
#: closing line) cost a thread hop each, which made a series of small instances slower than
#: the disk. One hop per megabyte.
COALESCE_BYTES = 1 << 20


def coalesced(chunks: Iterable[bytes], size: int = COALESCE_BYTES) -> Iterator[bytes]:
    """The same bytes in pieces of at least ``size`` (the last may be shorter); each byte is
    copied once at most (a piece that is one chunk already is not copied at all)."""
    pending: list[bytes] = []
    total = 0
    for chunk in chunks:
        pending.append(chunk)
        total += len(chunk)
        if total >= size:
            yield b"".join(pending)
            pending, total = [], 0
    if pending:
        yield b"".join(pending)


@attrs.define
class SpooledPart:
    headers: dict[str, str]
    path: Path
    size: int = 0

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class MultipartSpooler:
    """Feed it the body's chunks, then :meth:`finish`; each part lands in a file in ``folder``."""

    def __init__(self, boundary: str, folder: str | os.PathLike[str]) -> None:
        if not boundary or len(boundary) > 70:
            raise MultipartError("the boundary parameter must be 1 to 70 characters")
        self.dash = b"--" + boundary.encode("latin-1")
        self.delimiter = b"\r\n" + self.dash
        self.folder = Path(folder)
        self.parts: list[SpooledPart] = []
        self._buffer = bytearray()
        self._state = "preamble"
        self._skipped = 0
        self._out: object | None = None

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if self._state == "preamble" and not self._preamble():
                return
            if self._state == "after-delimiter" and not self._after_delimiter():
                return
            if self._state == "headers" and not self._headers():
                return
            if self._state == "body" and not self._body():
                return
            if self._state == "closed":
                self._buffer.clear()  # the epilogue is ignored
                return

    def _preamble(self) -> bool:
        if self._buffer.startswith(self.dash):
            cut = len(self.dash)
        else:
            index = self._buffer.find(self.delimiter)
            if index < 0:
                keep = len(self.delimiter)
                self._skipped += max(0, len(self._buffer) - keep)
                if self._skipped > MAX_PREAMBLE_BYTES:
                    raise MultipartError("no multipart delimiter with the declared boundary was found")
                del self._buffer[:max(0, len(self._buffer) - keep)]
                return False
            cut = index + len(self.delimiter)
        del self._buffer[:cut]
        self._state = "after-delimiter"
        return True

    def _after_delimiter(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] == b"--":
            self._state = "closed"
            return True
        index = self._buffer.find(b"\r\n")
        if index < 0:
            if len(self._buffer) > 1024:
                raise MultipartError("a multipart delimiter line is not followed by CRLF")
            return False
        if bytes(self._buffer[:index]).strip(b" \t"):
            raise MultipartError("a multipart delimiter is followed by unexpected text")
        del self._buffer[:index + 2]
        self._state = "headers"
        return True

    def _headers(self) -> bool:
        if self._buffer.startswith(b"\r\n"):
            block, cut = b"", 2
        else:
            index = self._buffer.find(b"\r\n\r\n")
            if index < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    raise MultipartError("a part's header block is too long or does not end")
                return False
            block, cut = bytes(self._buffer[:index]), index + 4
        headers: dict[str, str] = {}
        for line in block.split(b"\r\n") if block else ():
            name, separator, value = line.partition(b":")
            if not separator or not name.strip():
                raise MultipartError("a part has a malformed header line")
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
        del self._buffer[:cut]
        fd, name = tempfile.mkstemp(prefix="part-", suffix=".dcm", dir=self.folder)
        self._out = os.fdopen(fd, "wb")
        self.parts.append(SpooledPart(headers=headers, path=Path(name)))
        self._state = "body"
        return True

    def _body(self) -> bool:
        index = self._buffer.find(self.delimiter)
        if index < 0:
            safe = len(self._buffer) - len(self.delimiter) + 1
            if safe > 0:
                self._write(self._buffer[:safe])
                del self._buffer[:safe]
            return False
        self._write(self._buffer[:index])
        del self._buffer[:index + len(self.delimiter)]
        self._close_part()
        self._state = "after-delimiter"
        return True

    def _write(self, data: bytearray) -> None:
        assert self._out is not None
        self._out.write(data)  # type: ignore[attr-defined]
        self.parts[-1].size += len(data)

    def _close_part(self) -> None:
        if self._out is not None:
            self._out.close()  # type: ignore[attr-defined]
            self._out = None

    def finish(self) -> list[SpooledPart]:
        """The parts, once the closing delimiter arrived; a MultipartError otherwise."""
        self._close_part()
        if self._state != "closed":
            raise MultipartError("the multipart body ends before its closing delimiter (truncated?)")
        if not self.parts:
            raise MultipartError("the multipart body holds no parts")
        return self.parts

    def abort(self) -> None:
        self._close_part()
