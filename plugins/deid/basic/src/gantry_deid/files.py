"""De-identify one file into another, atomically.

    result = deidentify_file(kernel, plan, "in/1.dcm", "out/1.dcm", context_factory)

The source is read with ``kernel.read`` (the ranked readers; opened read-only, never written),
de-identified with :func:`gantry_deid.engine.deidentify_dataset`, encoded with
:func:`gantry_deid.encoder.encode_part10` and written to a temporary file in the destination
folder, flushed and fsync'ed, then renamed over ``dst`` with ``os.replace``: a reader of ``dst``
sees the old file or the whole new one, never half of it. On any failure the temporary file is
removed and ``dst`` is left as it was. The destination folder must exist (the runner decides
the layout); ``dst`` may not be the source.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from gantry import DeidError
from gantry.deid import DeidContext

from gantry_deid.encoder import encode_part10
from gantry_deid.engine import deidentify_dataset
from gantry_deid.plan import Plan

ContextFactory = Callable[[Any], DeidContext]
_counter = itertools.count()


@attrs.frozen
class DeidFileResult:
    """What became of one file (no patient data: UIDs are not patient data)."""

    source: str
    destination: str
    sop_instance_uid: str
    """The original SOP Instance UID."""
    deidentified_sop_instance_uid: str
    size: int
    """Bytes written."""
    context: DeidContext = attrs.field(repr=False)
    """UID pairs, date shift, originals, notes and flags the actions left, for the runner to persist."""


def deidentify_file(
    kernel: Any,
    plan: Plan,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    context_factory: ContextFactory,
    **read_options: Any,
) -> DeidFileResult:
    """Read ``src``, de-identify it with ``plan`` and write it atomically to ``dst``.

    ``context_factory(dataset) -> DeidContext`` builds the instance's context from the dataset
    as read (see :func:`gantry_deid.context.make_context`). Reader errors (``ReaderError``,
    ``NotDicomError``) pass through; de-identification errors are ``DeidError``; an OS error
    while writing is a ``DeidError`` naming the destination.
    """
    source, destination = Path(src), Path(dst)
    if destination.exists() and source.exists() and os.path.samefile(source, destination):
        raise DeidError(f"{destination}: the destination is the source file; originals are never modified")
    dataset = kernel.read(source, **read_options)
    context = context_factory(dataset)
    out = deidentify_dataset(dataset, plan, context)
    data = encode_part10(out)
    write_atomically(destination, data, what=f"instance {context.sop_instance_uid}")
    return DeidFileResult(source=str(source), destination=str(destination),
                          sop_instance_uid=context.sop_instance_uid,
                          deidentified_sop_instance_uid=str(out.file_meta.MediaStorageSOPInstanceUID),
                          size=len(data), context=context)


def write_atomically(destination: Path, data: bytes, *, what: str = "") -> None:
    """Write ``data`` to ``destination`` through a fsync'ed temporary file and a rename."""
    folder = destination.parent
    temporary = folder / f".{destination.name}.{os.getpid()}.{next(_counter)}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as err:
        raise DeidError(f"{what}: cannot create a file in {folder}: {err.strerror or err}") from err
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, destination)
    except BaseException as err:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError):
            raise DeidError(f"{what}: cannot write {destination}: {err.strerror or err}") from err
        raise
