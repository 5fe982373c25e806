"""Helpers for tests of DICOMweb servers and clients: multipart bodies built and taken apart
independently of the server's own code paths (no shared parser)."""

from __future__ import annotations

from typing import Any


def multipart_body(parts: list[bytes], boundary: str = "gantry-test-boundary",
                   content_type: str = "application/dicom") -> tuple[bytes, str]:
    """A STOW-RS body and its Content-Type."""
    body = b"".join(f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode() + part + b"\r\n"
                    for part in parts) + f"--{boundary}--\r\n".encode()
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def split_multipart(response: Any) -> list[tuple[str, bytes]]:
    """``(Content-Type, content)`` of each part of a multipart response (an httpx Response)."""
    import re

    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/related"), content_type
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    assert match, content_type
    dash = b"--" + match.group(1).encode()
    body = response.content
    closing = b"\r\n" + dash + b"--\r\n"
    assert body.startswith(dash) and body.endswith(closing), body[:80]
    parts = []
    for chunk in body[len(dash):-len(closing)].split(b"\r\n" + dash):
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().strip().split("\r\n"))
        parts.append((headers["Content-Type"], content))
    return parts
