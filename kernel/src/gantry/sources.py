"""Sources a reader accepts (a path, bytes, a seekable binary stream): naming and peeking.

Shared by the kernel (to choose readers from the first bytes) and by reader plugins (to name
the source in their errors the same way).
"""

from __future__ import annotations

import os
from typing import Any

from gantry.errors import ReaderError


def describe_source(source: Any) -> str:
    """How errors name a source: the quoted path, ``<N bytes>``, or the stream's name."""
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    return repr(getattr(source, "name", f"<{type(source).__name__}>"))


def peek(source: Any, size: int) -> tuple[str, bytes]:
    """``(kind, first bytes)`` of a source, kind being "path", "bytes" or "stream".

    A stream is left where it was. Anything else is a ReaderError saying what was expected.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "bytes", bytes(source[:size])
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                return "path", handle.read(size)
        except OSError as err:
            raise ReaderError(f"{describe_source(source)}: cannot open: {err.strerror or err}") from err
    if hasattr(source, "read") and hasattr(source, "seek"):
        try:
            start = source.tell()
            head = source.read(size)
            source.seek(start)
        except (OSError, ValueError) as err:  # io.UnsupportedOperation is both
            raise ReaderError(f"{describe_source(source)}: cannot read: the stream is not seekable "
                              f"or is closed ({err})") from err
        return "stream", bytes(head)
    raise ReaderError(f"cannot read a {type(source).__name__}: give a path, bytes or a seekable binary stream")
