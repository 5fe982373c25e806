"""``store``: upload instances with ``POST /instances``, one StoreResult per file, in order.

Sources: paths (files, and folders walked recursively as ``gantry ingest`` walks them), indexed
instances (index rows, IndexRecords, StoredInstances: anything with a ``location``, relative
ones under the site's ``storage.store``), pydicom Datasets and bytes. A file goes as it is: Orthanc
accepts every transfer syntax, nothing is transcoded. Each file is opened and streamed per
attempt (never read whole into memory), so a retried upload sends it again from its start;
storing twice is harmless (Orthanc answers ``AlreadyStored``).

Results are :class:`OrthancStoreResult`: ``ok`` for Orthanc's ``Success`` and ``AlreadyStored``
(its word is in ``orthanc_status``, and in ``reason`` when already stored), with the Orthanc ID.
A file that is not DICOM (found locally, or refused by Orthanc with 400) is a failed result, not
an exception; failing to reach Orthanc (after the retries) is a TransportError.
``continue_on_error=False`` stops after the first failed file; ``progress(done, total)`` is called
after each; ``associations`` > 1 uploads that many files at once over kept-alive connections.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from gantry.ingest import Rejection, walk
from gantry.sources import NoInstanceFile, instance_file, sendable_header, store_folder
from gantry.transport import StoreResult

from gantry_orthanc.client import OrthancClient, OrthancHTTPError

SUCCESS = 0x0000

Progress = Callable[[int, int], None]


@attrs.frozen(kw_only=True)
class OrthancStoreResult(StoreResult):
    orthanc_status: str = ""
    """Orthanc's ``Status``: ``Success`` or ``AlreadyStored`` (empty when it failed)."""
    orthanc_id: str = ""
    """The instance's Orthanc identifier."""


@attrs.frozen
class Upload:
    source: str
    opener: Callable[[], Any]
    sop_instance_uid: str = ""
    transfer_syntax_uid: str = ""


def store_instances(client: OrthancClient, sources: Iterable[Any], *, kernel: Any = None,
                    continue_on_error: bool = True, progress: Progress | None = None,
                    associations: int = 1, **_ignored: Any) -> Iterator[StoreResult]:
    if associations < 1:
        raise ValueError(f"associations must be at least 1, got {associations}")
    rejected: list[Rejection] = []
    items = list(_expand(kernel, sources, rejected))
    total, done = len(items) + len(rejected), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for rejection in rejected:
        tick()
        yield StoreResult(source=rejection.path, reason=rejection.reason)
        if not continue_on_error:
            return
    prepared = (_prepare(kernel, item) for item in items)
    if associations == 1:
        results: Iterator[StoreResult] = (_upload(client, item) for item in prepared)
    else:
        results = _parallel(client, prepared, associations)
    for result in results:
        tick()
        yield result
        if not result.ok and not continue_on_error:
            return


def _parallel(client: OrthancClient, prepared: Iterator[Upload | StoreResult],
              workers: int) -> Iterator[StoreResult]:
    pending: deque[Future[StoreResult]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="gantry-orthanc-store") as pool:
        try:
            for item in prepared:
                pending.append(pool.submit(_upload, client, item))
                while len(pending) > 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # fail-fast or a caller that stopped reading: drop what has not started
            for future in pending:
                future.cancel()


def _upload(client: OrthancClient, item: Upload | StoreResult) -> StoreResult:
    if isinstance(item, StoreResult):
        return item
    try:
        response = client.request("POST", "/instances", content=item.opener,
                                  headers={"Content-Type": "application/dicom"})
        answer = response.json()
    except ValueError as err:  # not JSON: not Orthanc's answer to an upload
        return OrthancStoreResult(source=item.source, sop_instance_uid=item.sop_instance_uid, ok=False,
                                  reason=f"Orthanc's answer was not JSON: {err}",
                                  transfer_syntax_uid=item.transfer_syntax_uid)
    except OrthancHTTPError as err:
        return OrthancStoreResult(source=item.source, sop_instance_uid=item.sop_instance_uid, ok=False,
                                  reason=f"refused by Orthanc: {err.orthanc_message}",
                                  transfer_syntax_uid=item.transfer_syntax_uid)
    if not isinstance(answer, Mapping):
        answer = {}
    status = str(answer.get("Status", ""))
    ok = status in ("Success", "AlreadyStored")
    return OrthancStoreResult(source=item.source, sop_instance_uid=item.sop_instance_uid, ok=ok,
                              status=SUCCESS if ok else None,
                              reason="" if status == "Success" else status or "no Status in Orthanc's answer",
                              transfer_syntax_uid=item.transfer_syntax_uid, orthanc_status=status,
                              orthanc_id=str(answer.get("ID", "")))


def _prepare(kernel: Any, item: Any) -> Upload | StoreResult:
    if isinstance(item, (StoreResult, Upload)):
        return item
    if isinstance(item, bytes | bytearray | memoryview):
        data = bytes(item)
        header = sendable_header(kernel, data, "bytes")
        if isinstance(header, StoreResult):
            return header
        return Upload(source=f"<{len(data)} bytes>", opener=lambda: io.BytesIO(data),
                      sop_instance_uid=header.get("SOPInstanceUID", ""),
                      transfer_syntax_uid=header.get("TransferSyntaxUID", ""))
    path = str(item)
    header = sendable_header(kernel, path, path)
    if isinstance(header, StoreResult):
        return header
    return Upload(source=path, opener=lambda: open(path, "rb"), sop_instance_uid=header.get("SOPInstanceUID", ""),
                  transfer_syntax_uid=header.get("TransferSyntaxUID", ""))


def _expand(kernel: Any, sources: Iterable[Any], rejected: list[Rejection]) -> Iterator[Any]:
    store_root: str | None = None
    for source in sources:
        if isinstance(source, (str, os.PathLike)):
            yield from (path for path, _size, _mtime in walk([source], rejected))
        elif isinstance(source, bytes | bytearray | memoryview):
            yield source
        elif hasattr(source, "file_meta") or type(source).__name__ in ("Dataset", "FileDataset"):
            yield _encoded(source)
        else:
            if store_root is None:
                store_root = store_folder(kernel)
            yield _indexed(source, store_root)


def _encoded(dataset: Any) -> bytes | StoreResult:
    from pydicom import dcmwrite

    buffer = io.BytesIO()
    try:
        dcmwrite(buffer, dataset, enforce_file_format=True)
    except Exception as err:
        return StoreResult(source=str(dataset.get("SOPInstanceUID", "dataset")),
                           reason=f"cannot encode the dataset: {err}")
    return buffer.getvalue()


def _indexed(source: Any, store_root: str) -> str | StoreResult:
    try:
        return instance_file(source, store_root)
    except NoInstanceFile as err:
        return StoreResult(source=err.source, sop_instance_uid=err.sop_uid, reason=str(err))
