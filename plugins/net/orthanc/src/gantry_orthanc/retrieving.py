"""``retrieve``: instances from Orthanc into an instance store, or sent by Orthanc to a modality.

Into a store (``into=``: an instance store or a folder): the matching resources are found with
``/tools/find``; an instance comes from ``GET /instances/{id}/file``, a series, study or patient
from ``GET /{series|studies|patients}/{id}/archive``. Both are streamed to a temporary file on
disk (never a whole archive in memory), then each DICOM file in it is read for its UIDs and
written durably into the store, chunk by chunk: one RetrieveResult per instance, then a final
one with the counts (``completed``, ``failed``, ``remaining=0``), as a C-GET ends. Statuses are
DIMSE-like so that ``gantry get`` reads them the same: 0x0000 success, 0xC000 not a DICOM file,
0xA700 could not be written, 0xB000 (final) some failed.

From a modality (:func:`move_from_modality`): Orthanc asks one of its modalities (a PACS) to
C-MOVE matches to an AE (``POST /modalities/{name}/move``), followed as a job the same way.

To a modality (``destination=``: the name of one of Orthanc's modalities, or its AE title):
``POST /modalities/{name}/store`` with ``Asynchronous``, then ``GET /jobs/{id}`` is polled until
the job ends. The job is not ``Permissive``: Orthanc 1.10 reports a permissive job that could not
even connect as a Success with no failed instance, so a failure must end the job to be seen. A RetrieveResult
is yielded each time the job progresses (``remaining``, ``completed`` estimated from Orthanc's
progress), then the final one with Orthanc's InstancesCount and FailedInstancesCount. A job
Orthanc reports as failed is a TransportError with its error; a generator closed early cancels
the job (``POST /jobs/{id}/cancel``).
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from gantry import InstanceConflict, StorageError, TransportError
from gantry.log import get_logger
from gantry.transport import RetrieveResult

from gantry_orthanc.client import CHUNK, OrthancClient, OrthancHTTPError
from gantry_orthanc.queries import RESOURCES

log = get_logger("gantry.orthanc")

SUCCESS = 0x0000
WARNING = 0xB000
CANNOT_UNDERSTAND = 0xC000
OUT_OF_RESOURCES = 0xA700
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
JOB_DONE = ("Success", "Failure")


class Counts:
    def __init__(self) -> None:
        self.completed = 0
        self.failed = 0

    def add(self, result: RetrieveResult) -> RetrieveResult:
        if result.ok:
            self.completed += 1
        else:
            self.failed += 1
        return result

    def final(self) -> RetrieveResult:
        ok = not self.failed
        return RetrieveResult(ok=ok, status=SUCCESS if ok else WARNING, remaining=0, completed=self.completed,
                              failed=self.failed, warning=0,
                              reason=f"{self.completed} stored, {self.failed} failed")


def fetch_into(client: OrthancClient, level: str, identifiers: Sequence[str], store: Any) -> Iterator[RetrieveResult]:
    counts = Counts()
    with tempfile.TemporaryDirectory(prefix="gantry-orthanc-") as scratch:
        for identifier in identifiers:
            if level == "instance":
                results = _fetch_instance(client, identifier, store, scratch)
            else:
                results = _fetch_archive(client, level, identifier, store, scratch)
            for result in results:
                yield counts.add(result)
    yield counts.final()


def _fetch_instance(client: OrthancClient, identifier: str, store: Any, scratch: str) -> Iterator[RetrieveResult]:
    path = os.path.join(scratch, "instance.dcm")
    try:
        client.download(f"/instances/{identifier}/file", path)
    except OrthancHTTPError as err:
        if err.status != 404:
            raise
        yield RetrieveResult(ok=False, status=OUT_OF_RESOURCES, reason=f"instance {identifier} was deleted meanwhile")
        return
    try:
        with open(path, "rb") as source:
            yield _store_one(source, lambda: open(path, "rb"), store, f"instance {identifier}")
    finally:
        os.unlink(path)


def _fetch_archive(client: OrthancClient, level: str, identifier: str, store: Any,
                   scratch: str) -> Iterator[RetrieveResult]:
    path = os.path.join(scratch, "archive.zip")
    try:
        size = client.download(f"/{RESOURCES[level]}/{identifier}/archive", path)
    except OrthancHTTPError as err:
        if err.status != 404:
            raise
        yield RetrieveResult(ok=False, status=OUT_OF_RESOURCES, reason=f"{level} {identifier} was deleted meanwhile")
        return
    log.info("orthanc.archive", url=client.url, level=level, bytes=size)
    try:
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise TransportError(f"{client.url}: the {level} archive of {identifier} is not a ZIP file: {err}") from err
        with archive:
            for member in archive.infolist():
                if member.is_dir():
                    continue
                try:
                    with archive.open(member) as source:
                        yield _store_one(source, lambda member=member: archive.open(member), store, member.filename)
                except (zipfile.BadZipFile, OSError) as err:  # a damaged member (CRC ...)
                    yield RetrieveResult(ok=False, status=CANNOT_UNDERSTAND, reason=f"{member.filename}: {err}")
    finally:
        os.unlink(path)


def _store_one(header_source: BinaryIO, reopen: Any, store: Any, name: str) -> RetrieveResult:
    """Read the UIDs from ``header_source``, then stream a fresh ``reopen()`` into the store."""
    try:
        header = dcmread(header_source, stop_before_pixels=True, specific_tags=list(UID_KEYWORDS))
        uids = {keyword: str(header.get(keyword, "") or "") for keyword in UID_KEYWORDS}
    except (InvalidDicomError, EOFError, ValueError, TypeError) as err:
        return RetrieveResult(ok=False, status=CANNOT_UNDERSTAND, reason=f"{name}: not a DICOM file ({err})")
    missing = [keyword for keyword, value in uids.items() if not value]
    if missing:
        return RetrieveResult(sop_instance_uid=uids["SOPInstanceUID"], ok=False, status=CANNOT_UNDERSTAND,
                              reason=f"{name}: no {', '.join(missing)}")
    try:
        with reopen() as source:
            stored = store.put(iter(lambda: source.read(CHUNK), b""), study_uid=uids["StudyInstanceUID"],
                               series_uid=uids["SeriesInstanceUID"], sop_uid=uids["SOPInstanceUID"])
    except InstanceConflict as err:
        return RetrieveResult(sop_instance_uid=uids["SOPInstanceUID"], ok=False, status=CANNOT_UNDERSTAND,
                              reason=str(err) or "another instance has this SOP Instance UID")
    except (StorageError, OSError) as err:
        return RetrieveResult(sop_instance_uid=uids["SOPInstanceUID"], ok=False, status=OUT_OF_RESOURCES,
                              reason=f"could not be written: {err}")
    return RetrieveResult(sop_instance_uid=uids["SOPInstanceUID"], ok=True, location=stored.location, status=SUCCESS)


# -- sending to a modality -----------------------------------------------------------------


def modality_name(client: OrthancClient, destination: str) -> str:
    """Orthanc's name for ``destination`` (a modality name, or the AE title of one)."""
    wanted = destination.strip()
    modalities = client.get_json("/modalities", {"expand": ""})
    if isinstance(modalities, list):  # an Orthanc without ?expand: names only
        modalities = {name: {} for name in modalities}
    if wanted in modalities:
        return wanted
    by_title = [name for name, node in modalities.items() if isinstance(node, Mapping) and node.get("AET") == wanted]
    if len(by_title) == 1:
        return by_title[0]
    if by_title:
        raise TransportError(f"{client.url}: several of Orthanc's modalities have the AE title {wanted!r} "
                             f"({', '.join(sorted(by_title))}): name one of them instead")
    known = ", ".join(f"{name} ({node.get('AET', '?') if isinstance(node, Mapping) else '?'})"
                      for name, node in sorted(modalities.items())) or "none"
    raise TransportError(f"{client.url}: Orthanc knows no modality {wanted!r} (by name or AE title); "
                         f"its modalities: {known}")


def send_to_modality(client: OrthancClient, identifiers: Sequence[str], destination: str, *,
                     poll_interval: float = 0.2, timeout: float | None = None) -> Iterator[RetrieveResult]:
    if not destination or not destination.strip():
        raise TransportError(f"{client.url}: a move needs a destination (an Orthanc modality name or AE title)")
    name = modality_name(client, destination)
    if not identifiers:
        yield RetrieveResult(ok=True, status=SUCCESS, remaining=0, completed=0, failed=0, warning=0,
                             reason="nothing matched")
        return
    answer = client.post_json(f"/modalities/{name}/store",
                              {"Resources": list(identifiers), "Asynchronous": True},
                              idempotent=False)
    yield from _follow_job(client, answer, f"sending to {name}", poll_interval=poll_interval, timeout=timeout)


def move_from_modality(client: OrthancClient, source: str, level: str, keys: Mapping[str, str], *,
                       target: str | None = None, poll_interval: float = 0.2,
                       timeout: float | None = None) -> Iterator[RetrieveResult]:
    """Ask Orthanc to have one of its modalities (``source``: a PACS, by name or AE title) C-MOVE
    the matches of ``keys`` at ``level`` to ``target`` (an AE title; default: Orthanc itself),
    with ``POST /modalities/{source}/move`` as a job, followed like a store job."""
    name = modality_name(client, source)
    request: dict[str, Any] = {"Level": level.capitalize(),
                               "Resources": [dict(keys)], "Asynchronous": True}
    if target:
        request["TargetAet"] = target
    answer = client.post_json(f"/modalities/{name}/move", request, idempotent=False)
    what = f"moving from {name} to {target or 'itself'}"
    if isinstance(answer, Mapping) and not answer.get("ID"):
        # Orthanc 1.10 runs this one synchronously whatever is asked: its answer (an empty
        # object) comes once the C-MOVE has ended, successfully (a failure is an HTTP error).
        yield RetrieveResult(ok=True, status=SUCCESS, remaining=0, completed=None, failed=0, warning=0,
                             reason=f"Orthanc {what}: done")
        return
    yield from _follow_job(client, answer, what, poll_interval=poll_interval, timeout=timeout)


def _follow_job(client: OrthancClient, answer: Any, what: str, *, poll_interval: float,
                timeout: float | None) -> Iterator[RetrieveResult]:
    """Poll Orthanc's job until it ends: progress as pending results, then the final one; a failed
    job is a TransportError; a caller that stops early cancels the job."""
    job = str(answer.get("ID") or "") if isinstance(answer, Mapping) else ""
    if not job:
        raise TransportError(f"{client.url}: Orthanc started no job {what}: {answer!r}")
    log.info("orthanc.job", url=client.url, job=job, what=what)
    deadline = None if timeout is None else time.monotonic() + timeout
    done = False
    last_progress = -1
    try:
        while True:
            state = client.get_json(f"/jobs/{job}")
            status = str(state.get("State", ""))
            content = state.get("Content") or {}
            total = _count(content.get("InstancesCount"))
            failed = _count(content.get("FailedInstancesCount")) or 0
            if status == "Success":
                done = True
                completed = None if total is None else max(0, total - failed)
                yield RetrieveResult(ok=not failed, status=SUCCESS if not failed else WARNING, remaining=0,
                                     completed=completed, failed=failed, warning=0,
                                     reason=f"Orthanc job {job} {what}: {completed if completed is not None else 'all'} "
                                            f"sent, {failed} failed")
                return
            if status == "Failure":
                done = True
                why = state.get("ErrorDetails") or state.get("ErrorDescription") or "unknown error"
                raise TransportError(f"{client.url}: Orthanc's job {job} {what} failed: {why}"
                                     + (f" ({failed} of {total} instances failed)" if total is not None else ""))
            progress = int(state.get("Progress") or 0)
            if progress != last_progress and total is not None:
                last_progress = progress
                completed = total * progress // 100
                yield RetrieveResult(ok=True, status=0xFF00, remaining=total - completed, completed=completed,
                                     failed=failed, warning=0, reason=f"Orthanc job {job}: {status} {progress}%")
            if deadline is not None and time.monotonic() > deadline:
                raise TransportError(f"{client.url}: Orthanc's job {job} {what} did not end within "
                                     f"{timeout:g} s (state {status}, {progress}%)")
            time.sleep(poll_interval)
            poll_interval = min(poll_interval * 1.5, 2.0)
    finally:
        if not done:
            try:
                client.request("POST", f"/jobs/{job}/cancel", content=b"", idempotent=False)
            except TransportError as err:
                log.warning("orthanc.cancel_failed", url=client.url, job=job, error=str(err))


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
