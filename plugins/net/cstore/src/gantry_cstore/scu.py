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
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gantry import NotDicomError
from gantry.ingest import Rejection, walk
from gantry.transport import StoreResult
from gantry.uids import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    HTJ2K,
    IMPLICIT_VR_LITTLE_ENDIAN,
    JPEG2000,
    JPEG_BASELINE,
    JPEG_EXTENDED,
    JPEG_LS_NEAR_LOSSLESS,
    SHORT_NAMES,
)

from gantry_cstore.batches import Batch, Entry, Outgoing, batched
from gantry_dimse.services import AssociationLost, DimseChannel

IDENTITY_KEYWORDS = ("SOPClassUID", "SOPInstanceUID", "TransferSyntaxUID")
#: Never a transcoding target: a lossy copy is a different instance, not the one asked for.
LOSSY_SYNTAXES = frozenset({JPEG_BASELINE, JPEG_EXTENDED, JPEG_LS_NEAR_LOSSLESS, JPEG2000, HTJ2K})
#: Transcoding targets, best first; after them any other lossless syntax the peer accepted.
PREFERRED_TARGETS = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)
SUCCESS = 0x0000
_NAMES = {uid: name for name, uid in SHORT_NAMES.items()}

#: ``progress(files_done, files_total)``.
Progress = Callable[[int, int], None]


def syntax_name(uid: str) -> str:
    return _NAMES.get(uid, uid)


def store_scu(channel: DimseChannel, sources: Iterable[str | os.PathLike[str]], *,
              continue_on_error: bool = True, progress: Progress | None = None) -> Iterator[StoreResult]:
    """Send every file under ``sources``; one StoreResult per file, in the order found.

    ``continue_on_error=False`` stops after the first failed file. Results of one batch come
    when its association is done; ``progress`` is called after every file.
    """
    kernel = channel.kernel or _site_kernel()
    rejected: list[Rejection] = []
    paths = [path for path, _size, _mtime in walk(sources, rejected)]
    total = len(paths) + len(rejected)
    counter = _Counter(total, progress)
    for rejection in rejected:
        counter.tick()
        yield StoreResult(source=rejection.path, reason=rejection.reason)
        if not continue_on_error:
            return
    for batch in batched(identify(kernel, path) for path in paths):
        for result in _send_batch(channel, kernel, batch, continue_on_error, counter):
            yield result
            if not result.ok and not continue_on_error:
                return


def identify(kernel: Any, path: str) -> Entry:
    """What to send for ``path`` (read cheaply: a few header attributes), or why not."""
    try:
        header = kernel.scan(path, IDENTITY_KEYWORDS)
    except NotDicomError:
        return StoreResult(source=path, reason="not a DICOM file")
    except OSError as err:
        return StoreResult(source=path, reason=f"cannot read: {err.strerror or err}")
    except Exception as err:  # a damaged file is one failed result, never the end of the send
        return StoreResult(source=path, reason=f"unreadable DICOM: {err}")
    missing = [keyword for keyword in ("SOPClassUID", "SOPInstanceUID") if not header.get(keyword)]
    if missing:
        return StoreResult(source=path, sop_instance_uid=header.get("SOPInstanceUID", ""),
                           reason=f"no {' and no '.join(missing)}: not a storable instance")
    return Outgoing(path=path, sop_class_uid=header["SOPClassUID"], sop_instance_uid=header["SOPInstanceUID"],
                    # A file without File Meta is a raw dataset: pydicom reads it as Implicit VR LE.
                    transfer_syntax_uid=header.get("TransferSyntaxUID") or IMPLICIT_VR_LITTLE_ENDIAN)


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _send_batch(channel: DimseChannel, kernel: Any, batch: Batch, continue_on_error: bool,
                counter: _Counter) -> list[StoreResult]:
    results: list[StoreResult] = []

    def send_all(association: Any) -> None:
        accepted = _accepted_syntaxes(association)
        # ``run`` may call this again on a fresh association when a reused one was lost:
        # carry on from the first file without a result.
        for entry in batch.entries[len(results):]:
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
    with tempfile.TemporaryDirectory(prefix="gantry-cstore-") as scratch:
        if item.transfer_syntax_uid in syntaxes:
            path, syntax, note = item.path, item.transfer_syntax_uid, ""
        else:
            outcome = _transcoded(kernel, item, syntaxes, scratch)
            if isinstance(outcome, str):
                return failed(outcome)
            path, syntax, note = outcome
        try:
            status = association.send_c_store(_read_whole(path))
        except (ValueError, AttributeError, OSError) as err:  # pynetdicom: no context, cannot encode
            return failed(f"{note + '; ' if note else ''}not sent: {err}")
    if "Status" not in status:
        raise AssociationLost(f"{url}: no C-STORE response (the association ended or the DIMSE "
                              f"timeout passed)")
    code = int(status.Status)
    comment = str(status.get("ErrorComment", "") or "")
    ok = code == SUCCESS or _is_warning(code)
    reason = "; ".join(part for part in (
        note, "" if code == SUCCESS else f"{'warning' if ok else 'failure'} status 0x{code:04X}", comment) if part)
    return StoreResult(source=item.path, sop_instance_uid=item.sop_instance_uid, ok=ok, status=code,
                       reason=reason, transfer_syntax_uid=syntax)


def _is_warning(code: int) -> bool:
    return code == 0x0001 or 0xB000 <= code <= 0xBFFF


def _transcoded(kernel: Any, item: Outgoing, syntaxes: list[str], scratch: str) -> tuple[str, str, str] | str:
    """``(path, syntax, note)`` of a copy in a syntax the peer accepted, or why there is none."""
    from gantry_transcode.transcode import transcode_file

    targets = [uid for uid in PREFERRED_TARGETS if uid in syntaxes]
    targets += [uid for uid in syntaxes if uid not in targets and uid not in LOSSY_SYNTAXES]
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


def _read_whole(path: str) -> Any:
    from pydicom import dcmread

    return dcmread(path)


def _site_kernel() -> Any:
    """For an adapter built without a kernel: the site's, for its readers and codecs."""
    from gantry.kernel import Kernel

    return Kernel.from_config()
