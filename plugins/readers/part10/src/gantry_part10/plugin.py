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
        )
    ]


@hookimpl
def gantry_cli(app: Any) -> None:
    from gantry_part10.scan import scan_command  # click only; pydicom loads when a file is read

    app.add_command(scan_command)
