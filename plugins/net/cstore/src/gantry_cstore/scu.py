"""The C-STORE SCU: send files and folders, one association per batch (see :mod:`.batches`).

A file goes as it is when the peer accepted its (SOP class, transfer syntax); otherwise it is
transcoded (through ``gantry_transcode`` and the codec plugins) to a syntax the peer accepted for
its SOP class, losslessly only, and the result's ``reason`` says so. Per-file failures are
results, never exceptions: a non-DICOM file, a failure status, a file nothing can transcode.
Failing to reach or associate with the peer is a TransportError, as for every operation.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pynetdicom import _config as _pynetdicom_config

from gantry.ingest import Rejection
from gantry.sources import sendable_header
from gantry.transport import StoreResult
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, LOSSY, SHORT_NAMES

from gantry_cstore.batches import MAX_BATCH_FILES, Batch, Entry, Outgoing, batched
from gantry_cstore.selection import expand
from gantry_dimse.direct_send import send_file
from gantry_dimse.services import AssociationLost, DimseChannel

# pynetdicom's documented switch: ``send_c_store`` streams a file given by its path (its dataset
# bytes, PDU by PDU) instead of decoding it into a Dataset and encoding it again, which was most
# of a small file's sending cost and held a whole large file in memory. Datasets, which every
# other sender in Gantry passes, are sent as before.
_pynetdicom_config.STORE_SEND_CHUNKED_DATASET = True

#: Transcoding targets, best first; after them any other lossless syntax the peer accepted.
PREFERRED_TARGETS = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)
SUCCESS = 0x0000
#: File Meta elements pynetdicom needs to stream a file by path.
STREAMED_META = ("MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID")
_NAMES = {uid: name for name, uid in SHORT_NAMES.items()}

#: ``progress(files_done, files_total)``.
Progress = Callable[[int, int], None]


def syntax_name(uid: str) -> str:
    return _NAMES.get(uid, uid)


def store_scu(channel: DimseChannel, sources: Iterable[str | os.PathLike[str]], *,
              continue_on_error: bool = True, progress: Progress | None = None,
              associations: int = 1) -> Iterator[StoreResult]:
    """Send every file under ``sources`` (paths, or indexed instances: see :mod:`.selection`);
    one StoreResult per file, in the order found.

    ``continue_on_error=False`` stops after the first failed file. Results of one batch come
    when its association is done; ``progress`` is called after every file. ``associations``
    above 1 sends that many batches at once, each on its own association: a C-STORE waits for
    its response, so one association spends most of its time waiting on the round trip.
    """
    if associations < 1:
        raise ValueError(f"associations must be at least 1, got {associations}")
    kernel = channel.kernel or _site_kernel()
    rejected: list[Rejection] = []
    items = list(expand(kernel, sources, rejected))  # paths to identify, or indexed entries
    total = len(items) + len(rejected)
    counter = _Counter(total, progress)
    for rejection in rejected:
        counter.tick()
        yield StoreResult(source=rejection.path, reason=rejection.reason)
        if not continue_on_error:
            return
    # Several associations share the files out in batches small enough to keep each one busy.
    per_batch = MAX_BATCH_FILES if associations == 1 else max(1, min(MAX_BATCH_FILES, -(-len(items) // associations)))
    batches = batched((identify(kernel, item) if isinstance(item, str) else item for item in items),
                      max_files=per_batch)
    for result in _send_batches(channel, kernel, batches, continue_on_error, counter, associations):
        yield result
        if not result.ok and not continue_on_error:
            return


def _send_batches(channel: DimseChannel, kernel: Any, batches: Iterable[Batch], continue_on_error: bool,
                  counter: _Counter, associations: int) -> Iterator[StoreResult]:
    """Each batch's results in order; up to ``associations`` batches in flight at once."""
    stop = threading.Event()
    if associations == 1:
        for batch in batches:
            yield from _send_batch(channel, kernel, batch, continue_on_error, counter, stop)
        return
    pending: deque[Future[list[StoreResult]]] = deque()
    with ThreadPoolExecutor(associations, thread_name_prefix="gantry-send") as workers:
        try:
            for batch in batches:
                pending.append(workers.submit(_send_batch, channel, kernel, batch, continue_on_error, counter, stop))
                while len(pending) > 2 * associations:  # identify ahead, but not the whole list
                    yield from _finished(pending.popleft(), continue_on_error, stop)
            while pending:
                yield from _finished(pending.popleft(), continue_on_error, stop)
        finally:  # fail-fast, an error, or a caller that stopped reading: the others stop too
            stop.set()
            for future in pending:
                future.cancel()


def _finished(future: Future[list[StoreResult]], continue_on_error: bool,
              stop: threading.Event) -> Iterator[StoreResult]:
    for result in future.result():
        if not result.ok and not continue_on_error:
            stop.set()
        yield result


def identify(kernel: Any, path: str) -> Entry:
    """What to send for ``path`` (read cheaply: a few header attributes), or why not."""
    header = sendable_header(kernel, path, path)
    if isinstance(header, StoreResult):
        return header
    return Outgoing(path=path, sop_class_uid=header["SOPClassUID"], sop_instance_uid=header["SOPInstanceUID"],
                    # A file without File Meta is a raw dataset: pydicom reads it as Implicit VR LE.
                    transfer_syntax_uid=header.get("TransferSyntaxUID") or IMPLICIT_VR_LITTLE_ENDIAN)


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress
        self._lock = threading.Lock()  # batches on several associations finish files at once

    def tick(self) -> None:
        with self._lock:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)


def _send_batch(channel: DimseChannel, kernel: Any, batch: Batch, continue_on_error: bool,
                counter: _Counter, stop: threading.Event) -> list[StoreResult]:
    results: list[StoreResult] = []

    def send_all(association: Any) -> None:
        accepted = _accepted_syntaxes(association)
        # ``run`` may call this again on a fresh association when a reused one was lost:
        # carry on from the first file without a result.
        for entry in batch.entries[len(results):]:
            if stop.is_set():  # another association's batch failed under fail-fast
                return
            result = entry if isinstance(entry, StoreResult) else _send_one(association, kernel, entry,
                                                                           accepted, channel.url)
            results.append(result)
            counter.tick()
            if not result.ok and not continue_on_error:
                return

    if not batch.outgoing():
        send_all(None)
        return results
    try:
        channel.run((), send_all, contexts=batch.contexts())
    except AssociationLost as err:
        for entry in batch.entries[len(results):]:
            results.append(entry if isinstance(entry, StoreResult) else
                           StoreResult(source=entry.path, sop_instance_uid=entry.sop_instance_uid,
                                       reason=f"not sent: {err}"))
            counter.tick()
    return results


def _accepted_syntaxes(association: Any) -> dict[str, list[str]]:
    accepted: dict[str, list[str]] = {}
    if association is not None:
        for context in association.accepted_contexts:
            accepted.setdefault(str(context.abstract_syntax), []).append(str(context.transfer_syntax[0]))
    return accepted


def _send_one(association: Any, kernel: Any, item: Outgoing, accepted: dict[str, list[str]],
              url: str) -> StoreResult:
    syntaxes = accepted.get(item.sop_class_uid, [])
    failed = lambda reason: StoreResult(source=item.path, sop_instance_uid=item.sop_instance_uid,  # noqa: E731
                                        reason=reason, transfer_syntax_uid=item.transfer_syntax_uid)
    if not syntaxes:
        return failed(f"the peer accepted no presentation context for SOP class {item.sop_class_uid}")
    if item.transfer_syntax_uid in syntaxes:  # the file as it is (no scratch folder: 1 ms each here)
        syntax, note = item.transfer_syntax_uid, ""
        try:
            # Straight onto the socket when it can (gantry_dimse.direct_send), else pynetdicom.
            status = (send_file(association, item.path, item.sop_class_uid, item.sop_instance_uid, syntax)
                      or association.send_c_store(_payload(item.path)))
        except (ValueError, AttributeError, OSError) as err:  # pynetdicom: no context, cannot encode
            return failed(f"not sent: {err}")
    else:
        with tempfile.TemporaryDirectory(prefix="gantry-cstore-") as scratch:
            outcome = _transcoded(kernel, item, syntaxes, scratch)
            if isinstance(outcome, str):
                return failed(outcome)
            path, syntax, note = outcome
            try:
                status = association.send_c_store(_payload(path))
            except (ValueError, AttributeError, OSError) as err:
                return failed(f"{note}; not sent: {err}")
    if isinstance(status, tuple):  # (status, error comment) from send_file
        code, comment = status
    elif "Status" not in status:
        raise AssociationLost(f"{url}: no C-STORE response (the association ended or the DIMSE "
                              f"timeout passed)")
    else:
        code, comment = int(status.Status), str(status.get("ErrorComment", "") or "")
    ok = code == SUCCESS or _is_warning(code)
    reason = "; ".join(part for part in (
        note, "" if code == SUCCESS else f"{'warning' if ok else 'failure'} status 0x{code:04X}", comment) if part)
    return StoreResult(source=item.path, sop_instance_uid=item.sop_instance_uid, ok=ok, status=code,
                       reason=reason, transfer_syntax_uid=syntax)


def _is_warning(code: int) -> bool:
    return code == 0x0001 or 0xB000 <= code <= 0xBFFF


def transcode_targets(accepted: list[str]) -> list[str]:
    """The syntaxes worth transcoding to, best first, among those a peer ``accepted``: Explicit
    then Implicit VR Little Endian, then any other lossless one (a lossy copy is another
    instance, not the one asked for)."""
    targets = [uid for uid in PREFERRED_TARGETS if uid in accepted]
    return targets + [uid for uid in accepted if uid not in targets and uid not in LOSSY]


def _transcoded(kernel: Any, item: Outgoing, syntaxes: list[str], scratch: str) -> tuple[str, str, str] | str:
    """``(path, syntax, note)`` of a copy in a syntax the peer accepted, or why there is none."""
    from gantry_transcode.transcode import transcode_file

    targets = transcode_targets(syntaxes)
    if not targets:
        return (f"the peer refused {syntax_name(item.transfer_syntax_uid)} and accepted only lossy "
                f"syntaxes ({', '.join(map(syntax_name, syntaxes))}) for this SOP class")
    reasons = []
    for target in targets:
        destination = os.path.join(scratch, f"{len(reasons)}.dcm")
        outcome = transcode_file(kernel, item.path, destination, target)
        if outcome.ok and not outcome.lossy:
            return destination, target, (f"transcoded from {syntax_name(item.transfer_syntax_uid)} to "
                                         f"{syntax_name(target)}: the peer refused the original syntax")
        reasons.append(f"{syntax_name(target)}: {outcome.reason or 'lossy'}")
    return f"the peer refused {syntax_name(item.transfer_syntax_uid)} and transcoding failed ({'; '.join(reasons)})"


def _payload(path: str) -> Any:
    """What pynetdicom's ``send_c_store`` gets for ``path``: the path itself when the file has
    the File Meta elements pynetdicom streams it by (its dataset bytes are sent as they are, in
    PDU-sized reads, without decoding them: see the switch above); a file without
    them is read whole (pydicom takes a raw dataset as Implicit VR Little Endian)."""
    from pydicom import dcmread
    from pynetdicom.dsutils import split_dataset

    try:
        file_meta, _offset = split_dataset(path)
    except Exception:  # no File Meta at all: a raw dataset
        file_meta = None
    if file_meta is not None and all(keyword in file_meta for keyword in STREAMED_META):
        return path
    return dcmread(path)


def _site_kernel() -> Any:
    """For an adapter built without a kernel: the site's, for its readers and codecs."""
    from gantry.kernel import Kernel

    return Kernel.from_config()
