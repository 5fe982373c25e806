"""Readers: turn a source (a path, bytes or a binary stream) into a pydicom Dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantry.hookspecs import hookspec

if TYPE_CHECKING:
    from gantry.descriptors import Reader


@hookspec
def gantry_readers() -> list[Reader]:
    """Return the :class:`~gantry.Reader` descriptors this plugin provides.

    Ranking: a *ranked chain* per source kind (``"path"``, ``"bytes"``, ``"stream"``). The kernel
    asks readers in priority order (highest first, ties by name); a reader whose ``sniff`` says no
    is skipped, and a reader that raises hands over to the next one. When every reader fails the
    caller gets a :class:`~gantry.ReaderError` naming each reader tried and why; when every
    ``sniff`` said no it gets :class:`~gantry.NotDicomError`.

    Contract for the referenced callables:

    - ``sniff(head: bytes) -> bool``: ``head`` is the first 256 bytes (fewer for a short source).
      Must be cheap and must not raise.
    - ``read(source, *, stop_before_pixels=False, specific_tags=None, defer_size=None) -> Dataset``:
      raise :class:`~gantry.ReaderError` (or :class:`~gantry.NotDicomError`) with the reason;
      never return a half-read dataset as if it were whole.

    Describing must be cheap: return descriptors, import pydicom only inside ``read``.
    """
