"""Recover a batch of files into a folder: one result per file, the batch goes on after a failure.

    results = recover_files(kernel.read, ["deid-out/"], Path("recovered"), certificate, private_key)

Folders are walked recursively (hidden files and anything under ``out`` skipped); each file is
written to ``out`` under its path relative to the folder given (a file given by itself: under
its name), atomically, through a temporary file and a rename. Sources are only read.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from pydicom import dcmwrite

from gantry import GantryError
from gantry_deid.files import write_atomically

from gantry_pseudonym.recover import recover_dataset


@attrs.frozen
class RecoveryResult:
    source: Path
    destination: Path | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def recover_files(read: Callable[[Path], Any], inputs: Iterable[str | os.PathLike[str]], out: Path,
                  certificate: x509.Certificate, private_key: rsa.RSAPrivateKey) -> list[RecoveryResult]:
    out.mkdir(parents=True, exist_ok=True)
    claimed: set[Path] = set()
    results = []
    for source, relative in _sources(inputs, out):
        destination = out / relative
        if destination.resolve() in claimed:
            results.append(RecoveryResult(source, None, f"another input already went to {destination}"))
            continue
        claimed.add(destination.resolve())
        results.append(_recover_one(read, source, destination, certificate, private_key))
    return results


def _recover_one(read: Callable[[Path], Any], source: Path, destination: Path,
                 certificate: x509.Certificate, private_key: rsa.RSAPrivateKey) -> RecoveryResult:
    if destination.resolve() == source.resolve():
        return RecoveryResult(source, None, "the output would replace the input")
    try:
        restored = recover_dataset(read(source), certificate, private_key)
        buffer = io.BytesIO()
        dcmwrite(buffer, restored, enforce_file_format=True)
        destination.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(destination, buffer.getvalue(), what=str(source))
    except GantryError as err:  # our errors name no value: safe to repeat
        return RecoveryResult(source, None, str(err))
    except Exception as err:  # pydicom's text may quote a value: name the kind only
        return RecoveryResult(source, None, f"cannot write the recovered file ({type(err).__name__})")
    return RecoveryResult(source, destination)


def _sources(inputs: Iterable[str | os.PathLike[str]], out: Path) -> Iterator[tuple[Path, Path]]:
    skip = out.resolve()
    for given in map(Path, inputs):
        if not given.is_dir():
            yield given, Path(given.name)
            continue
        for folder, folders, files in os.walk(given):
            here = Path(folder)
            folders[:] = sorted(name for name in folders
                                if not name.startswith(".") and (here / name).resolve() != skip)
            for name in sorted(files):
                if not name.startswith("."):
                    yield here / name, (here / name).relative_to(given)
