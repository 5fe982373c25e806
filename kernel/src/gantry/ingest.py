"""Ingest: index every DICOM file under some paths into a storage backend.

The work splits where the cost is. Reading headers is CPU-bound, so worker processes scan files
(``Kernel.scan``: only the attributes the index needs, never pixel data) and send back plain
tuples. The parent alone writes to the backend, one transaction per batch, so a crash leaves
whole batches or nothing. Files are never modified or moved: the index points at them.

Resuming is by comparison, not by bookkeeping: a file whose path, size and modification time are
already in the index is skipped. Every other outcome is counted in an :class:`IngestSummary`:
non-DICOM clutter is skipped and counted, damaged files are rejected with their reason, and the
batch always goes on.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from gantry.errors import NotDicomError
from gantry.log import Phi, get_logger
from gantry.parallel import ordered_map, process_context
from gantry.storage import SCAN_KEYWORDS, AuditEvent, IndexRecord

if TYPE_CHECKING:
    from gantry.kernel import Kernel
    from gantry.storage import Backend

log = get_logger(__name__)

#: Files per task sent to a worker: large enough to amortise the hop between processes.
CHUNK = 64
#: Instances per transaction.
BATCH = 1000
#: Chunks in flight per worker: enough that workers keep scanning while the parent writes a
#: batch (a few tens of milliseconds), little enough that memory stays flat.
WINDOW = 16
REQUIRED_UIDS = (("SOPInstanceUID", "(0008,0018)"), ("SeriesInstanceUID", "(0020,000E)"),
                 ("StudyInstanceUID", "(0020,000D)"))

# What a worker sends back for one file: (outcome, path, size, mtime_ns, payload). The payload
# is the attribute text for "dicom", the reason for "rejected", None for "not-dicom".
Scanned = tuple[str, str, int, int, Any]
FileEntry = tuple[str, int, int]  # path, size, mtime_ns


@attrs.frozen
class Rejection:
    path: str
    reason: str


@attrs.define
class IngestSummary:
    seen: int = 0
    """Files found under the paths given."""
    indexed: int = 0
    """Instances written to the index by this run (new, or changed since the last run)."""
    already_indexed: int = 0
    """Files skipped as unchanged since an earlier run, and copies of indexed instances."""
    skipped_non_dicom: int = 0
    skipped_dicomdir: int = 0
    """DICOMDIR files: DICOM, but media directories rather than instances."""
    rejected: list[Rejection] = attrs.field(factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"seen": self.seen, "indexed": self.indexed, "already_indexed": self.already_indexed,
                "skipped_non_dicom": self.skipped_non_dicom,
                "skipped_dicomdir": self.skipped_dicomdir,
                "rejected": [{"path": r.path, "reason": r.reason} for r in self.rejected],
                "seconds": round(self.seconds, 3)}


#: Progress callback: ``progress(files_done, files_total)``.
Progress = Callable[[int, int], None]


def walk(paths: Iterable[str | os.PathLike[str]], rejected: list[Rejection]) -> Iterator[FileEntry]:
    """Every regular file under ``paths`` (recursively, symlinked folders not followed), sorted
    within each folder so runs are reproducible. A path that does not exist is rejected."""
    for given in paths:
        path = os.path.abspath(os.fspath(given))
        try:
            info = os.stat(path)
        except OSError as err:
            rejected.append(Rejection(path, f"cannot read: {err.strerror or err}"))
            continue
        if os.path.isdir(path):
            yield from _walk_folder(path, rejected)
        else:
            yield path, info.st_size, info.st_mtime_ns


def _walk_folder(folder: str, rejected: list[Rejection]) -> Iterator[FileEntry]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as err:
        rejected.append(Rejection(folder, f"cannot list folder: {err.strerror or err}"))
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk_folder(entry.path, rejected)
            elif entry.is_file():
                info = entry.stat()
                yield entry.path, info.st_size, info.st_mtime_ns
            elif entry.is_symlink() and not entry.is_dir():
                rejected.append(Rejection(entry.path, "cannot read: broken symbolic link"))
        except OSError as err:
            rejected.append(Rejection(entry.path, f"cannot read: {err.strerror or err}"))


# --- the worker side ---------------------------------------------------------------------------

_worker_kernel: Kernel | None = None


def _scan_one(kernel: Kernel, entry: FileEntry) -> Scanned:
    path, size, mtime_ns = entry
    try:
        return "dicom", path, size, mtime_ns, kernel.scan(path, SCAN_KEYWORDS)
    except NotDicomError:
        return "not-dicom", path, size, mtime_ns, None
    except OSError as err:
        return "rejected", path, size, mtime_ns, f"cannot read: {err.strerror or err}"
    except Exception as err:  # a damaged file is reported, never the end of the batch
        return "rejected", path, size, mtime_ns, _without_path(str(err) or type(err).__name__, path)


def _without_path(reason: str, path: str) -> str:
    """Readers' messages start with the file they are about; the rejection names it already."""
    for prefix in (f"'{path}': ", f"{path}: ", f"file {path}: "):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason


def _scan_chunk(entries: Sequence[FileEntry]) -> list[Scanned]:
    assert _worker_kernel is not None, "worker started without a kernel"
    return [_scan_one(_worker_kernel, entry) for entry in entries]


def _init_worker(config_source: str | None) -> None:
    # Under "fork" the parent's kernel is inherited as it is; other start methods rebuild it.
    global _worker_kernel
    if _worker_kernel is None:
        from gantry.kernel import Kernel

        _worker_kernel = Kernel.from_config(config_source)


# --- the parent side ---------------------------------------------------------------------------


class Ingest:
    """One ingest run into ``backend``, scanning with ``kernel``'s readers."""

    def __init__(self, kernel: Kernel, backend: Backend, *, workers: int | None = None,
                 progress: Progress | None = None, batch_size: int | None = None) -> None:
        self.kernel = kernel
        self.backend = backend
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.progress = progress
        self.batch_size = batch_size or BATCH
        self.actor = actor_name()
        self.summary = IngestSummary()
        self._pending: list[IndexRecord] = []
        self._events: list[AuditEvent] = []

    def run(self, paths: Sequence[str | os.PathLike[str]]) -> IngestSummary:
        started = time.perf_counter()
        roots = [os.path.abspath(os.fspath(p)) for p in paths]
        job = self.backend.job_start("ingest", {"paths": roots})
        unwalkable: list[Rejection] = []
        entries = list(walk(roots, unwalkable))
        for rejection in unwalkable:
            self._reject(rejection.path, rejection.reason)
        self.summary.seen = len(entries) + len(unwalkable)
        to_scan = self._unchanged_skipped(roots, entries)
        status = "failed"
        try:
            done = self.summary.seen - len(to_scan)
            self._report(done)
            for chunk in self._scanned_chunks(to_scan):
                for scanned in chunk:
                    self._take(scanned)
                done += len(chunk)
                if len(self._pending) >= self.batch_size:
                    self._flush()
                self._report(done)
            self._flush()
            status = "done"
        finally:
            self.backend.job_finish(job.id, status)
            self.summary.seconds = time.perf_counter() - started
            log.info("ingest.finished", seen=self.summary.seen, indexed=self.summary.indexed,
                     already_indexed=self.summary.already_indexed,
                     skipped_non_dicom=self.summary.skipped_non_dicom,
                     rejected=len(self.summary.rejected), seconds=round(self.summary.seconds, 3))
        return self.summary

    def _report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.summary.seen)

    def _unchanged_skipped(self, roots: list[str], entries: list[FileEntry]) -> list[FileEntry]:
        known: dict[str, tuple[int, int]] = {}
        for root in roots:
            known.update(self.backend.files_under(root))
        fresh = [entry for entry in entries if known.get(entry[0]) != (entry[1], entry[2])]
        self.summary.already_indexed += len(entries) - len(fresh)
        return fresh

    def _scanned_chunks(self, entries: list[FileEntry]) -> Iterator[list[Scanned]]:
        chunks = [entries[i:i + CHUNK] for i in range(0, len(entries), CHUNK)]
        if self.workers == 1 or len(chunks) <= 1:
            for chunk in chunks:
                yield [_scan_one(self.kernel, entry) for entry in chunk]
            return
        yield from self._scan_in_processes(chunks)

    def _scan_in_processes(self, chunks: list[list[FileEntry]]) -> Iterator[list[Scanned]]:
        global _worker_kernel
        context = process_context()
        if context.get_start_method() == "fork":
            _worker_kernel = self.kernel  # inherited as it is: plugins loaded, configuration applied
        try:
            yield from ordered_map(_scan_chunk, chunks, workers=self.workers, context=context,
                                   initializer=_init_worker, initargs=(self.kernel.config.source,),
                                   window=WINDOW)
        finally:
            _worker_kernel = None

    def _take(self, scanned: Scanned) -> None:
        outcome, path, size, mtime_ns, payload = scanned
        if outcome == "not-dicom":
            self.summary.skipped_non_dicom += 1
            return
        if outcome == "rejected":
            self._reject(path, payload)
            return
        attributes: dict[str, str] = payload
        if "SOPInstanceUID" not in attributes and os.path.basename(path).upper() == "DICOMDIR":
            self.summary.skipped_dicomdir += 1
            return
        missing = [f"{name} {tag}" for name, tag in REQUIRED_UIDS if not attributes.get(name)]
        if missing:
            self._reject(path, "no " + " and no ".join(missing) + ": cannot place it in the index")
            return
        self._pending.append(IndexRecord(
            attributes=attributes, location=path, size=size, mtime_ns=mtime_ns,
            transfer_syntax_uid=attributes.get("TransferSyntaxUID", "")))

    def _reject(self, path: str, reason: str) -> None:
        self.summary.rejected.append(Rejection(path, reason))
        self._events.append(AuditEvent(actor=self.actor, action="ingest.rejected",
                                       detail={"path": path, "reason": reason}))
        log.warning("ingest.rejected", path=Phi(path), reason=Phi(reason))

    def _flush(self) -> None:
        """Write what is pending, ``batch_size`` instances per transaction."""
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), self.batch_size):
            self._write_batch(pending[start:start + self.batch_size])
        if self._events:  # rejections with no instance to travel with
            self._write_batch([])

    def _write_batch(self, batch: list[IndexRecord]) -> None:
        records = self._without_conflicts(batch)
        events = self._events + [
            AuditEvent(actor=self.actor, action="ingest",
                       sop_instance_uid=record.attributes["SOPInstanceUID"],
                       detail={"location": record.location})
            for record in records]
        self._events = []
        if not events:
            return
        with self.backend.transaction():
            if records:
                self.backend.index(records)
            self.backend.audit(events)
        self.summary.indexed += len(records)

    def _without_conflicts(self, records: list[IndexRecord]) -> list[IndexRecord]:
        """Drop copies of instances already indexed, reject different content under a known UID.

        Content is compared only when a SOP Instance UID turns up at a second location: hashing
        every file would cost more than scanning it.
        """
        by_uid: dict[str, IndexRecord] = {}
        for record in records:
            uid = record.attributes["SOPInstanceUID"]
            first = by_uid.get(uid)
            if first is None:
                by_uid[uid] = record
            elif not self._same_content(first.location, record.location, first.size, record.size):
                self._reject_conflict(record, first.location)
            else:
                self.summary.already_indexed += 1
        stored = self.backend.stored_files(list(by_uid))
        kept = []
        for uid, record in by_uid.items():
            known = stored.get(uid)
            if known is None or known.location == record.location or not os.path.exists(known.location):
                kept.append(record)  # new, changed in place, or moved here
            elif self._same_content(known.location, record.location, known.size, record.size):
                self.summary.already_indexed += 1
            else:
                self._reject_conflict(record, known.location)
        return kept

    def _reject_conflict(self, record: IndexRecord, other: str) -> None:
        self._reject(record.location, f"SOP Instance UID {record.attributes['SOPInstanceUID']} is "
                                      f"already indexed from {other} with different content")

    @staticmethod
    def _same_content(a: str, b: str, size_a: int, size_b: int) -> bool:
        if size_a != size_b:
            return False
        try:
            return file_digest(a) == file_digest(b)
        except OSError:
            return False


def file_digest(path: str) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def actor_name() -> str:
    """``user@host``: who an audit row says did it."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"
