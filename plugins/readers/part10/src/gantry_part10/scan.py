"""``gantry scan PATH...``: read every file under the paths and say what they hold.

A first useful job before the index exists: it shows what a folder really contains, counts the
clutter and reports every unreadable file with its reason. It prints no patient data.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from gantry.cli import pass_kernel


def iter_files(paths: tuple[str, ...]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(folder) / name
        else:
            yield path


def _special(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # a broken link: the reader says it cannot be opened
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def describe(dataset: Any, path: Path) -> dict[str, Any]:
    from pydicom.uid import UID

    meta = getattr(dataset, "file_meta", None)
    syntax = UID(meta.get("TransferSyntaxUID", "")) if meta is not None else UID("")
    # A raw dataset has no File Meta: the reader notes only the transfer syntax it was read in.
    raw = meta is None or set(meta.keys()) <= {0x00020010}
    sop_class = UID(dataset.get("SOPClassUID", ""))
    return {
        "path": str(path),
        "modality": str(dataset.get("Modality", "")),
        "sop_class": sop_class.name if sop_class else "",
        "transfer_syntax": (syntax.name if syntax else "(none)") + (" (raw dataset)" if raw else ""),
        "rows": dataset.get("Rows"),
        "columns": dataset.get("Columns"),
        "frames": int(dataset.get("NumberOfFrames", 1) or 1) if "Rows" in dataset else 0,
        "study_instance_uid": str(dataset.get("StudyInstanceUID", "")),
        "series_instance_uid": str(dataset.get("SeriesInstanceUID", "")),
        "size": path.stat().st_size,
    }


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@pass_kernel
def scan_command(kernel: Any, paths: tuple[str, ...], as_json: bool) -> None:
    """Read every file under PATHS and list what they hold (no patient data is printed)."""
    from gantry import NotDicomError, ReaderError

    files: list[dict[str, Any]] = []
    not_dicom: list[str] = []
    unreadable: list[dict[str, str]] = []
    candidates = list(iter_files(paths))
    with _progress(len(candidates), enabled=not as_json) as advance:
        for path in candidates:
            if _special(path):  # opening a FIFO would wait forever; a device is no DICOM file
                unreadable.append({"path": str(path), "reason": f"{path}: not a regular file: skipped"})
                advance()
                continue
            try:
                dataset = kernel.read(path, stop_before_pixels=True)
            except NotDicomError:
                not_dicom.append(str(path))
            except ReaderError as err:
                unreadable.append({"path": str(path), "reason": str(err)})
            else:
                try:
                    files.append(describe(dataset, path))
                except Exception as err:  # a malformed value (Rows, Number of Frames ...): one file only
                    unreadable.append({"path": str(path), "reason": f"{path}: read, but cannot be "
                                       f"described: {type(err).__name__}: {err}"})
            advance()
    if as_json:
        click.echo(json.dumps({"files": files, "not_dicom": not_dicom, "unreadable": unreadable}, indent=2))
        return
    _print_tables(files, not_dicom, unreadable)


class _progress:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total, self.bar = total, None
        self.enabled = enabled and sys.stderr.isatty() and total > 50

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("reading", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_tables(files: list[dict[str, Any]], not_dicom: list[str], unreadable: list[dict[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=f"{len(files)} DICOM file(s)", title_justify="left")
    for column in ("path", "modality", "SOP class", "transfer syntax", "columns x rows", "frames"):
        table.add_column(column, overflow="fold")
    for row in files:
        dims = f"{row['columns']}x{row['rows']}" if row["rows"] else "-"
        table.add_row(row["path"], row["modality"], row["sop_class"], row["transfer_syntax"], dims,
                      str(row["frames"]))
    console.print(table)
    studies = {row["study_instance_uid"] for row in files}
    series = {row["series_instance_uid"] for row in files}
    console.print(f"{len(studies)} study(ies), {len(series)} series, {len(files)} instance(s); "
                  f"{len(not_dicom)} non-DICOM file(s) skipped; {len(unreadable)} unreadable")
    for row in unreadable:
        console.print(f"[red]unreadable[/red] {row['reason']}", highlight=False)
