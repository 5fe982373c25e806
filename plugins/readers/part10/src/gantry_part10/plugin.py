"""Entry module: descriptors and hooks only (pydicom is imported when a file is first read)."""

from __future__ import annotations

from typing import Any

from gantry import Reader, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_readers() -> list[Reader]:
    return [
        Reader(
            name="part10",
            description="DICOM Part 10, raw (no preamble) and deflated datasets, via pydicom",
            sources=("path", "bytes", "stream"),
            priority=50,
            sniff="gantry_part10.sniff:looks_like_dicom",
            read="gantry_part10.reader:read",
            scan="gantry_part10.header_scan:scan",
        )
    ]


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry.cli import LazyCommand

    app.add_command(LazyCommand("scan", "gantry_part10.scan:scan_command",
                                help="Read every file under PATHS and list what they hold."))
