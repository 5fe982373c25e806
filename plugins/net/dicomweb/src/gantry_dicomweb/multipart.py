"""multipart/related, both ways, streamed (RFC 2387 over RFC 2046 framing).

Reading: :func:`iter_parts` turns an answer's byte chunks into parts, writing each part's body to
a sink the caller opens for it (a temporary file for an instance, memory for a frame) as the bytes
arrive; a part is handed over when it is complete, before the next is read. So a study of
gigabytes passes through one part at a time, never whole in memory.

Writing: :class:`MultipartBody` lays files out as parts, knows the exact length in advance (the
``Content-Length`` a server that refuses chunked uploads needs), and yields the bytes in chunks,
reading each file as it goes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

import attrs

from gantry import TransportError

CHUNK = 1024 * 1024
CRLF = b"\r\n"
MAX_HEADER_BYTES = 64 * 1024


def content_type_params(value: str) -> tuple[str, dict[str, str]]:
    """``('multipart/related', {'type': 'application/dicom', 'boundary': 'x'})`` from a header."""
    fields = _split_params(value)
    media = fields[0].strip().lower() if fields else ""
    params: dict[str, str] = {}
    for field in fields[1:]:
        name, _, raw = field.partition("=")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"')
        params[name.strip().lower()] = raw
    return media, params


def _split_params(value: str) -> list[str]:
    fields, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


@attrs.define
class Part:
    headers: dict[str, str]
    """Header names in lower case."""
    body: Any
    """Whatever the sink factory returned (already written to, flushed)."""
    size: int = 0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def iter_parts(chunks: Iterable[bytes], boundary: str,
               open_sink: Callable[[dict[str, str]], IO[bytes]]) -> Iterator[Part]:
    """Parse a multipart body arriving as ``chunks``; each part's body goes to
    ``open_sink(headers)`` as it arrives and the part is yielded when complete."""
    if not boundary:
        raise TransportError("a multipart answer without a boundary parameter")
    dash = b"--" + boundary.encode("latin-1")
    delimiter = CRLF + dash
    buffer = bytearray()
    source = iter(chunks)
    exhausted = False

    def more() -> bool:
        nonlocal exhausted
        if exhausted:
            return False
        for chunk in source:
            if chunk:
                buffer.extend(chunk)
                return True
        exhausted = True
        return False

    # The preamble: anything before the first delimiter (which may start the body, without CRLF).
    while True:
        if buffer.startswith(dash):
            del buffer[:len(dash)]
            break
        index = buffer.find(delimiter)
        if index >= 0:
            del buffer[:index + len(delimiter)]
            break
        if len(buffer) > len(delimiter):
            del buffer[:len(buffer) - len(delimiter)]
        if not more():
            raise TransportError("the multipart answer has no part (its boundary never appears)")
    while True:
        # After a delimiter: "--" ends the body; otherwise padding, CRLF, then a part's headers.
        while len(buffer) < 2 and more():
            pass
        if buffer[:2] == b"--":
            return
        end = buffer.find(CRLF)
        while end < 0:
            if not more():
                raise TransportError("the multipart answer ends inside a boundary line")
            end = buffer.find(CRLF)
        del buffer[:end + 2]
        end = buffer.find(CRLF + CRLF) if not buffer.startswith(CRLF) else -2
        while end == -1:
            if len(buffer) > MAX_HEADER_BYTES:
                raise TransportError("a multipart part's headers are too long")
            if not more():
                raise TransportError("the multipart answer ends inside a part's headers")
            end = buffer.find(CRLF + CRLF) if not buffer.startswith(CRLF) else -2
        headers = _headers(bytes(buffer[:max(end, 0)]))
        del buffer[:end + 4]
        sink = open_sink(headers)
        size = 0
        scanned = 0  # bytes of the buffer known to hold no delimiter start
        while True:
            index = buffer.find(delimiter, scanned)
            if index >= 0:
                sink.write(memoryview(buffer)[:index])
                size += index
                del buffer[:index + len(delimiter)]
                break
            keep = len(delimiter) - 1
            if len(buffer) > keep + CHUNK // 4:
                cut = len(buffer) - keep
                sink.write(memoryview(buffer)[:cut])
                size += cut
                del buffer[:cut]
            scanned = max(0, len(buffer) - keep)
            if not more():
                raise TransportError(f"the multipart answer ended inside a part ({size} bytes in)")
        sink.flush()
        yield Part(headers=headers, body=sink, size=size)


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers


class MultipartBody:
    """Files as the parts of one multipart/related body (``application/dicom`` each)."""

    def __init__(self, paths: Sequence[str], part_type: str = "application/dicom") -> None:
        self.paths = list(paths)
        self.part_type = part_type
        self.boundary = f"gantry-{secrets.token_hex(16)}"
        self._head = (b"--" + self.boundary.encode() + CRLF + b"Content-Type: " + part_type.encode()
                      + CRLF + CRLF)
        self._close = b"--" + self.boundary.encode() + b"--" + CRLF
        self.sizes = [os.path.getsize(path) for path in self.paths]

    @property
    def content_type(self) -> str:
        return f'multipart/related; type="{self.part_type}"; boundary={self.boundary}'

    def __len__(self) -> int:
        return sum(len(self._head) + size + len(CRLF) for size in self.sizes) + len(self._close)

    def chunks(self) -> Iterator[bytes]:
        """The body, read file by file (a fresh iterator for each attempt)."""
        for path, size in zip(self.paths, self.sizes, strict=True):
            yield self._head
            sent = 0
            with open(path, "rb") as source:
                while chunk := source.read(CHUNK):
                    sent += len(chunk)
                    yield chunk
            if sent != size:  # the Content-Length is already on the wire
                raise TransportError(f"{path} changed size while it was being sent ({size} -> {sent} bytes)")
            yield CRLF
        yield self._close
