"""In-process plugins for the kernel's own tests (importable: pytest's pythonpath has this folder).

Each is a small class whose methods are hookimpls: pluggy accepts objects as plugins, so tests
need no entry points (the entry-point path is tested with real wheels in tests/test_wheels.py).
"""

from __future__ import annotations

from typing import Any

from gantry import Codec, Reader, hookimpl

TS = "1.2.840.10008.1.2.4.90"
OTHER_TS = "1.2.840.10008.1.2.5"
CALLS: list[str] = []


def decode_ok(frame: bytes, info: Any = None) -> str:
    CALLS.append("ok")
    return f"ok:{frame!r}"


def decode_also_ok(frame: bytes, info: Any = None) -> str:
    CALLS.append("also")
    return f"also:{frame!r}"


def decode_raises(frame: bytes, info: Any = None) -> str:
    CALLS.append("raises")
    raise ValueError("corrupt codestream at byte 12")


def decode_none(frame: bytes, info: Any = None) -> None:
    CALLS.append("none")
    return None


class CodecPlugin:
    """A plugin offering one decoder with a given name, priority and implementation."""

    def __init__(self, name: str, priority: int, decode: str = "kernel_plugins:decode_ok",
                 syntaxes: tuple[str, ...] = (TS,), encode: str | None = None) -> None:
        self.descriptor = Codec(name=name, transfer_syntaxes=syntaxes, priority=priority,
                                decode=decode, encode=encode)

    @hookimpl
    def gantry_codecs(self) -> list[Codec]:
        return [self.descriptor]
