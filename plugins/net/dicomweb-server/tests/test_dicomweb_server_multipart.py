"""The incremental multipart/related parser under every way a body can be cut into chunks."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gantry_dicomweb_server.multipart import (
    MultipartError,
    MultipartSpooler,
    parse_accept,
    parse_media_type,
    write_parts,
)

BOUNDARY = "b0undary"
CONTENTS = [b"first part \r\n--b0undar not quite a delimiter", b"", b"\r\n" * 40 + bytes(range(256)) * 50]


def _body() -> bytes:
    return (b"preamble text\r\n" + b"".join(write_parts(BOUNDARY, [("application/dicom", [c]) for c in CONTENTS]))
            + b"epilogue")


def _parse(body: bytes, chunks: list[int], folder: Path) -> list[bytes]:
    spooler = MultipartSpooler(BOUNDARY, folder)
    position = 0
    for size in chunks:
        spooler.feed(body[position:position + size])
        position += size
    spooler.feed(body[position:])
    return [part.path.read_bytes() for part in spooler.finish()]


@pytest.mark.parametrize("chunking", ["whole", "bytes", "random"])
def test_parts_come_out_whatever_the_chunking(tmp_path: Path, chunking: str) -> None:
    body = _body()
    if chunking == "whole":
        chunks: list[int] = []
    elif chunking == "bytes":
        chunks = [1] * len(body)
    else:
        rng = random.Random(7)
        chunks = [rng.randint(1, 40) for _ in range(len(body) // 10)]
    assert _parse(body, chunks, tmp_path) == CONTENTS


def test_headers_padding_and_a_part_without_headers(tmp_path: Path) -> None:
    body = (f"--{BOUNDARY}  \r\n\r\nno headers\r\n--{BOUNDARY}\r\nContent-Type: application/dicom\r\n"
            f"X-Other: 1\r\n\r\nwith headers\r\n--{BOUNDARY}--").encode()
    spooler = MultipartSpooler(BOUNDARY, tmp_path)
    spooler.feed(body)
    parts = spooler.finish()
    assert [part.path.read_bytes() for part in parts] == [b"no headers", b"with headers"]
    assert parts[0].content_type is None and parts[1].headers == {"content-type": "application/dicom", "x-other": "1"}


@pytest.mark.parametrize("body", [
    b"",
    f"--{BOUNDARY}\r\n\r\nunfinished".encode(),
    f"--{BOUNDARY}\r\nbroken header line\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
    f"--{BOUNDARY}--\r\n".encode(),
    f"--{BOUNDARY}\r\n\r\nx\r\n--{BOUNDARY}junk\r\n".encode(),
])
def test_malformed_bodies(tmp_path: Path, body: bytes) -> None:
    spooler = MultipartSpooler(BOUNDARY, tmp_path)
    with pytest.raises(MultipartError):
        spooler.feed(body)
        spooler.finish()


def test_media_types_and_accept() -> None:
    media = parse_media_type('Multipart/Related; type="application/dicom"; boundary="a;b"; transfer-syntax=*')
    assert media.value == "multipart/related"
    assert media.params == {"type": "application/dicom", "boundary": "a;b", "transfer-syntax": "*"}
    ranges = parse_accept('image/png;q=0.5, multipart/related; type="image/jls", application/json;q=0')
    assert [r.value for r in ranges] == ["multipart/related", "image/png"]
    assert [r.value for r in parse_accept(None)] == ["*/*"]


def test_coalesced_keeps_every_byte_in_order_in_big_enough_pieces() -> None:
    from gantry_dicomweb_server.multipart import coalesced

    chunks = [bytes([n % 251]) * (n * 37 % 1000) for n in range(500)]
    pieces = list(coalesced(chunks, size=4096))
    assert b"".join(pieces) == b"".join(chunks)
    assert all(len(piece) >= 4096 for piece in pieces[:-1]) and 0 < len(pieces[-1])
    assert list(coalesced([], size=10)) == []
