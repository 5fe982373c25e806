"""The Transport contract: what ``Transport.factory(url, settings)`` returns.

One adapter per remote peer (a URL: ``dicom://CALLED@host:port``, ``dicoms://...``,
``dicomweb+https://...``, ``orthanc+http://...``), with a method per operation its descriptor
declares. ``gantry echo|find|get|send URL`` work the same whatever the scheme: a caller switches
protocol by changing the URL.

    with kernel.open_transport("dicom://PACS@pacs.example:104?calling=GANTRY") as peer:
        peer.echo()
        for answer in peer.find("study", {"PatientID": "123", "StudyDate": "2024-"}):
            ...
        for result in peer.store(["/data/study1"]):
            print(result.source, result.ok, result.status)

Query keys are DICOM keywords with DICOM matching values (as in :mod:`gantry.storage`); an empty
value asks for the attribute back (a return key). Errors reaching or talking to the peer are
:class:`gantry.TransportError`, with the real cause chained; per-instance failures of ``store``
and ``retrieve`` are results, not exceptions, so a batch goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

LEVELS = ("patient", "study", "series", "instance")
#: Query/retrieve information models: which level is the root.
MODELS = ("patient", "study")


@attrs.frozen(kw_only=True)
class EchoResult:
    ok: bool
    status: int | None = None
    """The peer's status (0x0000 for success) when it answered."""
    seconds: float = 0.0


@attrs.frozen(kw_only=True)
class StoreResult:
    """What became of one instance sent to a peer."""

    source: str
    """The path (or a description of the dataset) that was sent."""
    sop_instance_uid: str = ""
    ok: bool = False
    status: int | None = None
    reason: str = ""
    """Why it failed, or what was done to make it go (``transcoded to ...``)."""
    transfer_syntax_uid: str = ""
    """The syntax it travelled in."""


@attrs.frozen(kw_only=True)
class RetrieveResult:
    """One instance received (C-GET, WADO, an archive), or one status of a move."""

    sop_instance_uid: str = ""
    ok: bool = False
    location: str = ""
    """Where it was stored (the instance store's location)."""
    status: int | None = None
    reason: str = ""
    remaining: int | None = None
    completed: int | None = None
    failed: int | None = None
    warning: int | None = None


@runtime_checkable
class TransportAdapter(Protocol):
    """A connection to one peer. Methods exist for the operations the descriptor declares."""

    url: str
    """The URL, with any password masked."""

    def close(self) -> None: ...
    def __enter__(self) -> TransportAdapter: ...
    def __exit__(self, *exc: object) -> None: ...

    def echo(self) -> EchoResult:
        """Verify the peer answers (C-ECHO, an HTTP probe ...); TransportError when it cannot be reached."""

    def find(self, level: str, keys: Mapping[str, str], *, model: str = "study",
             limit: int | None = None) -> Iterator[Any]:
        """Matching datasets (pydicom Datasets), as the peer answers them."""

    def retrieve(self, level: str, keys: Mapping[str, str], *, into: Any = None,
                 destination: str | None = None) -> Iterator[RetrieveResult]:
        """Fetch matching instances ``into`` an instance store or folder (C-GET, WADO-RS ...),
        or ask the peer to send them to ``destination`` (C-MOVE: an AE title)."""

    def store(self, instances: Iterable[str | Any], *, continue_on_error: bool = True) -> Iterator[StoreResult]:
        """Send files, folders or datasets; one result per instance, in order."""
