"""The ``dicomweb+http(s)://`` transport adapter: what ``kernel.open_transport(url)`` returns.

    with kernel.open_transport("dicomweb+http://127.0.0.1:8042/dicom-web") as pacs:
        pacs.echo()
        for study in pacs.find("study", {"PatientID": "123", "StudyDate": "2024-", "PatientName": ""}):
            ...
        for result in pacs.retrieve("study", {"StudyInstanceUID": uid}, into="/data/out"):
            ...
        for result in pacs.store(["/data/study1"]):
            ...

The TransportAdapter contract (echo, find, retrieve, store) over QIDO-RS, WADO-RS and STOW-RS,
plus the DICOMweb resources that have no DIMSE twin: :meth:`qido` (raw DICOM JSON, one page),
:meth:`metadata`, :meth:`frames`, :meth:`bulkdata`, :meth:`rendered` and :meth:`instances`
(WADO-RS into any callback). Every request goes through :class:`gantry_dicomweb.client.HttpClient`
(retries, the node's breaker, credentials, timeouts, TLS).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import httpx

from gantry import InstanceConflict, StorageError, TransportError
from gantry.log import get_logger
from gantry.receiving import index_attributes
from gantry.transport import EchoResult, RetrieveResult, StoreResult

from gantry_dicomweb import qido as qido_rules
from gantry_dicomweb.client import HttpClient, describe_error
from gantry_dicomweb.multipart import content_type_params, iter_parts
from gantry_dicomweb.settings import DicomWebSettings
from gantry_dicomweb.urls import WebAddress, parse_dicomweb_url

log = get_logger(__name__)

DICOM_JSON = "application/dicom+json"
ANY_SYNTAX = "*"
INDEX_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
#: Frames as stored (``transfer-syntax=*``), uncompressed or in their compressed media type.
FRAMES_AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
SUCCESS = 0x0000
WARNING = 0xB000


def open_transport(url: str, settings: Mapping[str, Any] | None = None, kernel: Any = None) -> DicomWebTransport:
    """The Transport factory: ``url`` is a dicomweb+http(s) URL or ``dicomweb://NODE``."""
    config = DicomWebSettings.from_mapping(settings)
    return DicomWebTransport(parse_dicomweb_url(url, config), config, kernel=kernel)


class DicomWebTransport:
    """A client of one DICOMweb service root (see the module docstring)."""

    def __init__(self, address: WebAddress, settings: DicomWebSettings | None = None, *, kernel: Any = None) -> None:
        self.settings = settings or DicomWebSettings()
        self.address = address
        self.url = address.url
        self.client = HttpClient(address, self.settings)
        self.kernel = kernel
        """The kernel that opened this adapter (None when built directly): its readers scan
        files before they are sent and received instances before they are stored."""

    # -- the TransportAdapter contract ------------------------------------------------------

    def echo(self) -> EchoResult:
        """QIDO-RS ``GET studies?limit=1``: ok when the service answers 200 or 204. An answer
        refusing us (401, 403, 404 ...) is ``ok=False`` with that HTTP status; no answer at all
        is a TransportError."""
        started = time.perf_counter()
        response = self.client.send("GET", "studies", params={"limit": "1"}, headers={"Accept": DICOM_JSON})
        seconds = time.perf_counter() - started
        response.close()
        ok = response.status_code in (200, 204)
        if not ok:
            log.warning("dicomweb.echo_refused", url=self.url, status=response.status_code)
        return EchoResult(ok=ok, status=response.status_code, seconds=seconds)

    def find(self, level: str, keys: Mapping[str, str], *, model: str = "study", limit: int | None = None,
             offset: int = 0, include_fields: Sequence[str] = (), fuzzy: bool = False) -> Iterator[Any]:
        """QIDO-RS: matching datasets (pydicom Datasets from DICOM JSON), paging with ``offset``
        until the server has no more or ``limit`` are in. ``model`` is accepted for the
        contract (DICOMweb has one hierarchy); a ``patient`` level query asks for studies and
        answers each patient once."""
        try:
            query = qido_rules.build_query(level, keys, include_fields=include_fields, fuzzy=fuzzy)
        except ValueError as err:
            raise TransportError(f"{self.url}: bad query: {err}") from None
        if limit is not None and limit < 1:
            return iter(())
        if query.level == "patient":
            studies = list(self._pages(query, None, offset))
            return iter(qido_rules.patient_rows(qido_rules.datasets_from_json(studies), keys)[:limit])
        return (dataset for page in _chunks(self._pages(query, limit, offset), 100)
                for dataset in qido_rules.datasets_from_json(page))

    def qido(self, path: str, params: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> list[dict[str, Any]]:
        """One QIDO-RS request as it is (``path`` under the root, e.g. ``studies/1.2/series``):
        the DICOM JSON objects of that one answer."""
        items, _more = self._get_json(path, list(params.items() if isinstance(params, Mapping) else params))
        return items

    def retrieve(self, level: str, keys: Mapping[str, str], *, into: Any = None, destination: str | None = None,
                 model: str = "study", transfer_syntax: str = ANY_SYNTAX) -> Iterator[RetrieveResult]:
        """WADO-RS: every instance matching ``keys`` at ``level`` into ``into`` (an instance store
        or a folder), each written durably, one RetrieveResult each, then a final one with the
        counts. Keys naming the study (series, instance) by UID go straight to WADO-RS; other
        keys are resolved with QIDO-RS first. ``transfer_syntax='*'`` (default) asks for the
        instances as stored."""
        if destination is not None:
            raise TransportError(f"{self.url}: DICOMweb has no C-MOVE: retrieve into a store or folder "
                                 f"(destination={destination!r} cannot be honoured)")
        if into is None:
            raise TransportError(f"{self.url}: retrieve needs `into`: an instance store or a folder")
        store = self._instance_store(into)
        try:
            level = qido_rules.normalise_level(level)
        except ValueError as err:
            raise TransportError(f"{self.url}: {err}") from None
        return self._retrieve(level, keys, store, transfer_syntax)

    def store(self, instances: Iterable[Any], *, continue_on_error: bool = True,
              progress: Callable[[int, int], None] | None = None, associations: int = 1,
              study_uid: str | None = None) -> Iterator[StoreResult]:
        """STOW-RS files, folders, indexed instances (index rows, records, stored instances) or
        pydicom Datasets; one StoreResult per file, in order. ``continue_on_error=False`` stops
        after the first failed file; ``progress(done, total)`` is called after each file;
        ``associations`` above 1 posts that many batches at once; ``study_uid`` posts to
        ``studies/{uid}`` (the server refuses instances of other studies)."""
        from gantry_dicomweb.stow import check_study_uid, store_instances

        check_study_uid(study_uid)
        return store_instances(self.client, self.kernel, instances, continue_on_error=continue_on_error,
                               progress=progress, associations=associations, study_uid=study_uid,
                               batch_files=self.settings.stow_batch_files,
                               batch_bytes=self.settings.stow_batch_bytes)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DicomWebTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DicomWebTransport({self.address})"

    # -- WADO-RS resources ---------------------------------------------------------------------

    def instances(self, study: str, series: str | None = None, instance: str | None = None, *,
                  transfer_syntax: str = ANY_SYNTAX, folder: str | None = None) -> Iterator[str]:
        """WADO-RS a study, series or instance: paths of temporary files, one per instance, each
        removed when the next is asked for (copy or move it to keep it). Streamed: one instance
        on disk at a time."""
        path = _resource(study, series, instance)
        scratch = folder or tempfile.mkdtemp(prefix="gantry-wado-")
        try:
            for part_path in self._instance_files(path, transfer_syntax, scratch):
                yield part_path
                if os.path.exists(part_path):
                    os.unlink(part_path)
        finally:
            if folder is None:
                shutil.rmtree(scratch, ignore_errors=True)

    def metadata(self, study: str, series: str | None = None, instance: str | None = None, *,
                 bulkdata: bool = False) -> list[Any]:
        """WADO-RS metadata: one pydicom Dataset per instance. Elements the server gives as a
        BulkDataURI are fetched when ``bulkdata`` is true, otherwise left empty (their URIs are
        in :meth:`metadata_json`)."""
        handler = (lambda uri: self.bulkdata(uri)) if bulkdata else (lambda uri: None)
        return qido_rules.datasets_from_json(self.metadata_json(study, series, instance), handler)

    def metadata_json(self, study: str, series: str | None = None, instance: str | None = None) -> list[dict[str, Any]]:
        items, _more = self._get_json(f"{_resource(study, series, instance)}/metadata", [], none_is_empty=False)
        return items

    def frames(self, study: str, series: str, instance: str, numbers: Sequence[int], *,
               media_type: str = FRAMES_AS_STORED) -> list[bytes]:
        """WADO-RS frames (1-based ``numbers``), in order: as stored by default (a compressed
        frame as its codestream), or in ``media_type`` when the server can convert:
        ``multipart/related; type="application/octet-stream"`` for uncompressed pixels,
        ``multipart/related; type="image/jp2"`` ... (PS3.18 8.7.3.5)."""
        return [body for _kind, body in self.frame_parts(study, series, instance, numbers, media_type=media_type)]

    def frame_parts(self, study: str, series: str, instance: str, numbers: Sequence[int], *,
                    media_type: str = FRAMES_AS_STORED) -> list[tuple[str, bytes]]:
        """As :meth:`frames`, with each part's content type (``image/dicom-rle; transfer-syntax=...``)."""
        if not numbers or any(int(number) < 1 for number in numbers):
            raise TransportError(f"{self.url}: frame numbers start at 1, got {list(numbers)}")
        path = f"{_resource(study, series, instance)}/frames/{','.join(str(int(n)) for n in numbers)}"
        return [(headers.get("content-type", ""), body) for headers, body in self._fetch_parts(path, media_type)]

    def bulkdata(self, uri: str, *, media_type: str = 'multipart/related; type="application/octet-stream"') -> bytes:
        """The bytes behind a BulkDataURI (absolute, or relative to the service root)."""
        parts = self._fetch_parts(uri, media_type)
        if not parts:
            raise TransportError(f"{self.url}: no bulk data at {uri}")
        return parts[0][1]

    def rendered(self, study: str, series: str | None = None, instance: str | None = None, *,
                 frame: int | None = None, media_type: str = "image/png",
                 params: Mapping[str, str] | None = None) -> tuple[str, bytes]:
        """WADO-RS rendered (consumer-ready image): ``(content type, bytes)``. ``params`` are
        the rendering query parameters (``quality``, ``viewport``, ``window`` ...)."""
        path = _resource(study, series, instance) + (f"/frames/{int(frame)}" if frame is not None else "") + "/rendered"
        response = self.client.send("GET", path, params=dict(params or {}), headers={"Accept": media_type})
        if response.status_code != 200:
            raise TransportError(f"{self.url}: rendered {path}: {describe_error(response)}")
        return response.headers.get("Content-Type", ""), response.content

    # -- internals --------------------------------------------------------------------------

    def _pages(self, query: qido_rules.QidoQuery, limit: int | None, offset: int) -> Iterator[dict[str, Any]]:
        """Every answer, page by page: ``limit=page_size&offset=N`` until a page comes back short
        (and the server does not warn of more), or ``limit`` answers are in."""
        page_size = self.address.page_size
        given = 0
        while limit is None or given < limit:
            asked = page_size if limit is None else min(page_size, limit - given)
            params = [*query.params, ("limit", str(asked)), ("offset", str(offset))]
            items, more = self._get_json(query.path, params)
            for item in items[:asked]:
                yield item
            given += min(len(items), asked)
            offset += len(items)
            if not items or (len(items) < asked and not more):
                return

    def _get_json(self, path: str, params: list[tuple[str, str]], *,
                  none_is_empty: bool = True) -> tuple[list[dict[str, Any]], bool]:
        response = self.client.send("GET", path, params=params, headers={"Accept": DICOM_JSON})
        if response.status_code == 204 or (response.status_code == 404 and none_is_empty and not response.content):
            return [], False
        if response.status_code != 200:
            raise TransportError(f"{self.url}: GET {path}: {describe_error(response)}")
        try:
            data = response.json() if response.content else []
        except ValueError as err:
            raise TransportError(f"{self.url}: GET {path}: the answer is not JSON: {err}") from None
        if not isinstance(data, list):
            raise TransportError(f"{self.url}: GET {path}: expected a JSON array, got {type(data).__name__}")
        warning = response.headers.get("Warning", "")
        more = "additional results" in warning.lower() or "limit" in warning.lower()
        return data, more

    def _retrieve(self, level: str, keys: Mapping[str, str], store: Any,
                  transfer_syntax: str) -> Iterator[RetrieveResult]:
        completed = failed = 0
        for path in self._wado_paths(level, keys):
            with tempfile.TemporaryDirectory(prefix="gantry-wado-") as scratch:
                try:
                    for part_path in self._instance_files(path, transfer_syntax, scratch):
                        result = self._store_one(store, part_path)
                        os.unlink(part_path)
                        completed, failed = completed + result.ok, failed + (not result.ok)
                        yield result
                except _NotFound:
                    log.info("dicomweb.retrieve_not_found", url=self.url, resource=path)
        reason = f"{completed} instance{'s' if completed != 1 else ''} retrieved" + (
            f", {failed} failed" if failed else "")
        # As a C-GET's final status: success, or a warning when some instances failed.
        yield RetrieveResult(ok=failed == 0, status=SUCCESS if not failed else WARNING, reason=reason, remaining=0,
                             completed=completed, failed=failed, warning=0)

    def _wado_paths(self, level: str, keys: Mapping[str, str]) -> Iterator[str]:
        study, series = qido_rules.single(keys.get("StudyInstanceUID")), qido_rules.single(keys.get("SeriesInstanceUID"))
        instance = qido_rules.single(keys.get("SOPInstanceUID"))
        others = {key for key, value in keys.items()
                  if value and key not in INDEX_KEYWORDS and key not in qido_rules.MESSAGE_KEYS}
        if not others:  # the UIDs say it all: straight to WADO-RS
            if level in ("patient", "study") and study and not (series or instance):
                yield _resource(study)
                return
            if level == "series" and study and series and not instance:
                yield _resource(study, series)
                return
            if level == "instance" and study and series and instance:
                yield _resource(study, series, instance)
                return
        wire = "study" if level == "patient" else level
        asked = {**keys, **{keyword: "" for keyword in INDEX_KEYWORDS[: {"study": 1, "series": 2}.get(wire, 3)]
                            if not keys.get(keyword)}}
        seen: set[str] = set()
        for answer in self.find(wire, asked):
            path = _resource(qido_rules.single(str(answer.get("StudyInstanceUID", "")) or study),
                             str(answer.get("SeriesInstanceUID", "") or series) if wire != "study" else None,
                             str(answer.get("SOPInstanceUID", "")) if wire == "instance" else None)
            if path not in seen:
                seen.add(path)
                yield path

    def _instance_files(self, path: str, transfer_syntax: str, scratch: str) -> Iterator[str]:
        """Stream ``path`` (a WADO-RS study/series/instance) into one temporary file per part."""
        accepts = [f'multipart/related; type="application/dicom"; transfer-syntax={transfer_syntax}']
        if transfer_syntax == ANY_SYNTAX:
            accepts.append('multipart/related; type="application/dicom"')  # for servers that refuse '*'
        response = None
        for accept in accepts:
            response = self.client.send("GET", path, headers={"Accept": accept}, stream=True)
            if response.status_code != 406:
                break
            response.close()
        assert response is not None
        try:
            if response.status_code == 404:
                raise _NotFound(path)
            if response.status_code != 200:
                response.read()
                raise TransportError(f"{self.url}: GET {path}: {describe_error(response)}")
            media, params = content_type_params(response.headers.get("Content-Type", ""))
            if media != "multipart/related":
                raise TransportError(f"{self.url}: GET {path}: expected multipart/related, got {media or 'nothing'}")
            counter = 0

            def open_sink(headers: dict[str, str]) -> IO[bytes]:
                nonlocal counter
                counter += 1
                return open(os.path.join(scratch, f"part-{counter}.dcm"), "wb")

            try:
                for part in iter_parts(response.iter_bytes(), params.get("boundary", ""), open_sink):
                    part.body.close()
                    yield part.body.name
            except httpx.HTTPError as err:
                raise TransportError(f"{self.url}: GET {path}: the answer broke off: "
                                     f"{type(err).__name__}: {err}") from err
        finally:
            response.close()

    def _fetch_parts(self, path: str, media_type: str) -> list[tuple[dict[str, str], bytes]]:
        """A small multipart (or single-part) answer, in memory: frames, bulk data."""
        import io

        response = self.client.send("GET", path, headers={"Accept": media_type})
        if response.status_code != 200:
            raise TransportError(f"{self.url}: GET {path}: {describe_error(response)}")
        media, params = content_type_params(response.headers.get("Content-Type", ""))
        if media != "multipart/related":
            return [({"content-type": response.headers.get("Content-Type", "")}, response.content)]
        parts = iter_parts([response.content], params.get("boundary", ""), lambda headers: io.BytesIO())
        return [(part.headers, part.body.getvalue()) for part in parts]

    def _store_one(self, store: Any, path: str) -> RetrieveResult:
        try:
            attributes = index_attributes(path, self.kernel, INDEX_KEYWORDS)
        except ValueError as err:
            return RetrieveResult(ok=False, status=0xC000, reason=f"received part is not a usable instance: {err}")
        uid = attributes["SOPInstanceUID"]
        try:
            stored = store.put_file(path, study_uid=attributes["StudyInstanceUID"],
                                    series_uid=attributes["SeriesInstanceUID"], sop_uid=uid)
        except InstanceConflict as err:
            return RetrieveResult(sop_instance_uid=uid, ok=False, status=0xC000,
                                  reason=str(err) or "another instance has this SOP Instance UID")
        except (StorageError, OSError) as err:
            return RetrieveResult(sop_instance_uid=uid, ok=False, status=0xA700, reason=f"could not be written: {err}")
        return RetrieveResult(sop_instance_uid=uid, ok=True, location=stored.location, status=SUCCESS)

    def _instance_store(self, into: Any) -> Any:
        if not isinstance(into, (str, os.PathLike)):
            return into
        kernel = self.kernel
        if kernel is None:
            from gantry.kernel import Kernel

            kernel = self.kernel = Kernel.from_config()
        return kernel.open_instance_store(os.fspath(into))


class _NotFound(TransportError):
    pass


def _resource(study: str, series: str | None = None, instance: str | None = None) -> str:
    for uid in (study, series, instance):
        if uid is not None and (not uid or "/" in uid or "?" in uid):
            raise TransportError(f"{uid!r} is not a UID")
    path = f"studies/{study}"
    if series:
        path += f"/series/{series}"
    if instance:
        if not series:
            raise TransportError("an instance needs its series UID")
        path += f"/instances/{instance}"
    return path


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
