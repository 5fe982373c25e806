"""Transports (one per URL scheme) and DIMSE services (one per service and role)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantry.hookspecs import hookspec

if TYPE_CHECKING:
    from gantry.descriptors import DimseService, Transport


@hookspec
def gantry_transports() -> list[Transport]:
    """Return the :class:`~gantry.Transport` descriptors this plugin provides.

    Ranking: *one active provider per URL scheme* (``dicom``, ``dicoms``, ``dicomweb+https``,
    ``orthanc+http``, ``file`` ...). There is no run-time fallback: a URL means one peer, and
    quietly talking to it another way would surprise the site. Errors are
    :class:`~gantry.TransportError`.

    ``factory(url: str, settings: Mapping, *, kernel) -> adapter`` (the kernel, so that the
    adapter can use other plugins: DIMSE service providers, codecs to transcode on send ...); the
    adapter follows :class:`gantry.transport.TransportAdapter`, with a method for each operation
    the descriptor declares:

    - ``echo() -> None`` (raises if the peer does not answer),
    - ``find(level, keys) -> Iterator[Dataset]``,
    - ``retrieve(level, keys, into) -> Iterator[result]``,
    - ``store(instances) -> Iterator[result]``, one result per instance.
    """


@hookspec
def gantry_dimse_services() -> list[DimseService]:
    """Return the :class:`~gantry.DimseService` descriptors this plugin provides.

    Ranking: *one active provider per service and role* (family ``dimse-scu`` or ``dimse-scp``,
    key ``C-ECHO``, ``C-STORE``, ``C-FIND``, ``C-MOVE``, ``C-GET``, ``N-ACTION`` ...). The DIMSE
    transport composes the active services into one association handler.
    """
