"""STOW-RS: files, folders, indexed instances or datasets -> POST multipart/related in batches.

Each file is identified from its header first (SOP class and instance, transfer syntax; a file
that is not DICOM is a failed result at once, never sent), then files go in batches of at most
``stow_batch_files`` files and ``stow_batch_bytes`` bytes, each batch one streamed POST with an
exact Content-Length. The server's answer (PS3.18 10.5.3: ReferencedSOPSequence,
FailedSOPSequence with FailureReason, WarningReason) gives each file its result; a file the answer
does not mention failed. An answer without a body for the whole batch (HTTP 400, 401, 413, 415
...) fails each of its files with that status.

StoreResult.status holds a DIMSE-style code, as for C-STORE: 0x0000 stored, the WarningReason for a
warning, the FailureReason for a refusal, the HTTP status when the server gave nothing finer.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from gantry import TransportError
from gantry.sources import NoInstanceFile, instance_file, sendable_header, store_folder
from gantry.transport import StoreResult

from gantry_dicomweb.client import HttpClient, describe_error
from gantry_dicomweb.multipart import MultipartBody

REFERENCED_SOP_SEQUENCE = "00081199"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_INSTANCE_UID = "00081155"
FAILURE_REASON = "00081197"
WARNING_REASON = "00081196"
SUCCESS = 0x0000
Progress = Callable[[int, int], None]


@attrs.frozen(kw_only=True)
class Outgoing:
    path: str
    source: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    size: int


def store_instances(client: HttpClient, kernel: Any, sources: Iterable[Any], *, continue_on_error: bool = True,
                    progress: Progress | None = None, associations: int = 1, study_uid: str | None = None,
                    batch_files: int = 50, batch_bytes: int = 256 * 1024 * 1024) -> Iterator[StoreResult]:
    """One StoreResult per file, in the order found (see the module docstring)."""
    if associations < 1:
        raise ValueError(f"associations must be at least 1, got {associations}")
    with tempfile.TemporaryDirectory(prefix="gantry-stow-") as scratch:
        entries = [identify(kernel, entry) if isinstance(entry, str) else entry
                   for entry in expand(kernel, sources, scratch)]
        total, done = len(entries), 0

        def tick(count: int = 1) -> None:
            nonlocal done
            done += count
            if progress is not None:
                for step in range(done - count + 1, done + 1):
                    progress(step, total)

        path = f"studies/{study_uid}" if study_uid else "studies"
        batches = list(_batches(entries, batch_files, batch_bytes))
        if associations == 1:
            results: Iterator[list[StoreResult]] = (_send(client, path, batch) for batch in batches)
        else:
            results = _parallel(client, path, batches, associations)
        for batch_results in results:
            for result in batch_results:
                tick()
                yield result
                if not result.ok and not continue_on_error:
                    return


def _parallel(client: HttpClient, path: str, batches: list[list[Any]], workers: int) -> Iterator[list[StoreResult]]:
    with ThreadPoolExecutor(workers, thread_name_prefix="gantry-stow") as pool:
        futures: list[Future[list[StoreResult]]] = [pool.submit(_send, client, path, batch) for batch in batches]
        try:
            for future in futures:
                yield future.result()
        finally:  # fail-fast or a caller that stopped reading: batches not started are dropped
            for future in futures:
                future.cancel()


def _batches(entries: list[Any], max_files: int, max_bytes: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    size = 0
    for entry in entries:
        if isinstance(entry, Outgoing) and batch and (len(batch) >= max_files or size + entry.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry.size if isinstance(entry, Outgoing) else 0
    if batch:
        yield batch


def _send(client: HttpClient, path: str, batch: list[Any]) -> list[StoreResult]:
    outgoing = [entry for entry in batch if isinstance(entry, Outgoing)]
    answers: dict[str, StoreResult] = {}
    if outgoing:
        answers = _post(client, path, outgoing)
    results = []
    for entry in batch:
        if isinstance(entry, StoreResult):
            results.append(entry)
        else:
            results.append(answers.get(entry.sop_instance_uid) or StoreResult(
                source=entry.source, sop_instance_uid=entry.sop_instance_uid, status=None,
                transfer_syntax_uid=entry.transfer_syntax_uid,
                reason="the server's STOW-RS answer does not mention this instance"))
    return results


def _post(client: HttpClient, path: str, outgoing: list[Outgoing]) -> dict[str, StoreResult]:
    body = MultipartBody([item.path for item in outgoing])
    headers = {"Content-Type": body.content_type, "Accept": "application/dicom+json",
               "Content-Length": str(len(body))}
    response = client.send("POST", path, headers=headers, content=body.chunks)
    by_uid = {item.sop_instance_uid: item for item in outgoing}

    def result(uid: str, *, ok: bool, status: int | None, reason: str) -> StoreResult:
        item = by_uid[uid]
        return StoreResult(source=item.source, sop_instance_uid=uid, ok=ok, status=status, reason=reason,
                           transfer_syntax_uid=item.transfer_syntax_uid)

    answer = _json(response)
    if answer is None:
        why = f"refused: {describe_error(response)}"
        return {uid: result(uid, ok=False, status=response.status_code, reason=why) for uid in by_uid}
    results: dict[str, StoreResult] = {}
    http = f"HTTP {response.status_code}"
    for item in _items(answer, FAILED_SOP_SEQUENCE):
        uid = _text(item, REFERENCED_SOP_INSTANCE_UID)
        if uid in by_uid:
            code = _number(item, FAILURE_REASON)
            reason = f"refused ({http}" + (f", failure reason 0x{code:04X}" if code is not None else "") + ")"
            results[uid] = result(uid, ok=False, status=code if code is not None else response.status_code,
                                  reason=reason)
    for item in _items(answer, REFERENCED_SOP_SEQUENCE):
        uid = _text(item, REFERENCED_SOP_INSTANCE_UID)
        if uid in by_uid and uid not in results:
            warning = _number(item, WARNING_REASON)
            results[uid] = result(uid, ok=True, status=SUCCESS if warning is None else warning,
                                  reason="" if warning is None else f"stored with warning 0x{warning:04X}")
    return results


def _json(response: Any) -> Mapping[str, Any] | None:
    try:
        response.read()
        if not response.content:
            return None
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, list) and len(data) == 1:  # some servers wrap the one object in an array
        data = data[0]
    return data if isinstance(data, Mapping) else None


def _items(answer: Mapping[str, Any], tag: str) -> list[Mapping[str, Any]]:
    element = answer.get(tag)
    values = element.get("Value", []) if isinstance(element, Mapping) else []
    return [item for item in values if isinstance(item, Mapping)]


def _text(item: Mapping[str, Any], tag: str) -> str:
    values = (item.get(tag) or {}).get("Value") or [""]
    return str(values[0])


def _number(item: Mapping[str, Any], tag: str) -> int | None:
    values = (item.get(tag) or {}).get("Value") or []
    try:
        return int(values[0]) if values else None
    except (TypeError, ValueError):
        return None


# -- what to send ------------------------------------------------------------------------------

def expand(kernel: Any, sources: Iterable[Any], scratch: str) -> Iterator[str | Outgoing | StoreResult]:
    """For each source, in order: paths to identify (files under a folder, sorted), an indexed
    instance's file, a dataset written to ``scratch``, or a failed result."""
    from gantry.ingest import Rejection, walk

    store_root: str | None = None
    for number, source in enumerate(sources):
        if isinstance(source, (str, os.PathLike)):
            rejected: list[Rejection] = []
            yield from (path for path, _size, _mtime in walk([source], rejected))
            yield from (StoreResult(source=rejection.path, reason=rejection.reason) for rejection in rejected)
            continue
        if _is_dataset(source):
            yield _written(source, scratch, number)
            continue
        if store_root is None:
            store_root = store_folder(kernel)
        yield _indexed(source, store_root)


def _is_dataset(source: Any) -> bool:
    from pydicom import Dataset

    return isinstance(source, Dataset)


def _written(dataset: Any, scratch: str, number: int) -> str | StoreResult:
    path = os.path.join(scratch, f"dataset-{number}.dcm")
    uid = str(dataset.get("SOPInstanceUID", ""))
    try:
        dataset.save_as(path, enforce_file_format=True)
    except Exception as err:  # a dataset pydicom cannot write is one failed result
        return StoreResult(source=f"dataset {uid or number}", sop_instance_uid=uid,
                           reason=f"cannot be written as a DICOM file: {err}")
    return path


def _indexed(source: Any, store_root: str) -> str | StoreResult:
    try:
        return instance_file(source, store_root)
    except NoInstanceFile as err:
        return StoreResult(source=err.source, sop_instance_uid=err.sop_uid, reason=str(err))


def identify(kernel: Any, path: str) -> Outgoing | StoreResult:
    """What to send for ``path`` (a few header attributes), or why not."""
    header = sendable_header(kernel, path, path)
    if isinstance(header, StoreResult):
        return header
    try:
        size = os.path.getsize(path)
    except OSError as err:  # gone since it was read
        return StoreResult(source=path, sop_instance_uid=header["SOPInstanceUID"],
                           reason=f"cannot read: {err.strerror or err}")
    return Outgoing(path=path, source=path, sop_instance_uid=header["SOPInstanceUID"],
                    transfer_syntax_uid=header.get("TransferSyntaxUID", ""), size=size)


def check_study_uid(study_uid: str | None) -> None:
    if study_uid is not None and (not study_uid or "/" in study_uid):
        raise TransportError(f"study_uid {study_uid!r} is not a UID")
