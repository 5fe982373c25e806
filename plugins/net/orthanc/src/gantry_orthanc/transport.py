"""The ``orthanc+http://`` / ``orthanc+https://`` transport adapter: what
``kernel.open_transport("orthanc+http://host:8042")`` returns.

    with kernel.open_transport("orthanc+http://127.0.0.1:8042") as orthanc:
        orthanc.echo()                                           # GET /system
        for answer in orthanc.find("series", {"PatientID": "12*", "Modality": "CT", "SeriesDescription": ""}):
            ...
        for result in orthanc.retrieve("study", {"StudyInstanceUID": uid}, into="out"):   # archives
            ...
        for result in orthanc.store(["/data/study1"]):           # POST /instances
            ...
        for change in orthanc.follow(since=None):                # GET /changes: stable studies
            ...

It speaks Orthanc's own REST API, not DICOMweb. One adapter holds one kept-alive HTTP client;
every request goes through bounded retries and the node's circuit breaker (:mod:`.client`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from gantry import TransportError
from gantry.transport import EchoResult, RetrieveResult, StoreResult

from gantry_orthanc.changes import ChangeFollower
from gantry_orthanc.client import OrthancClient
from gantry_orthanc.queries import OrthancFind, normalise_level
from gantry_orthanc.retrieving import fetch_into, move_from_modality, send_to_modality
from gantry_orthanc.settings import OrthancSettings
from gantry_orthanc.storing import store_instances
from gantry_orthanc.urls import OrthancAddress, parse_orthanc_url


@attrs.frozen(kw_only=True)
class OrthancEchoResult(EchoResult):
    version: str = ""
    """Orthanc's version (``1.10.1``)."""
    name: str = ""
    api_version: int | None = None
    dicom_aet: str = ""


def open_transport(url: str, settings: Mapping[str, Any] | None = None, kernel: Any = None) -> OrthancTransport:
    """The Transport factory: ``url`` is an orthanc+http(s):// URL, ``settings`` the [orthanc] section."""
    return OrthancTransport(parse_orthanc_url(url, OrthancSettings.from_mapping(settings)), kernel=kernel)


class OrthancTransport:
    """A connection to one Orthanc (see the module docstring)."""

    def __init__(self, address: OrthancAddress, *, kernel: Any = None, client: OrthancClient | None = None) -> None:
        self.address = address
        self.url = address.url
        self.settings = address.settings
        self.client = client or OrthancClient(address)
        self.kernel = kernel
        self.find_sources: dict[str, str] = {}
        """For the last ``find``: keyword -> where its values came from (main, computed, parent,
        metadata, file); see :mod:`gantry_orthanc.queries`."""

    # -- the TransportAdapter contract ------------------------------------------------------

    def echo(self) -> OrthancEchoResult:
        """``GET /system``: TransportError when Orthanc cannot be reached or refuses our credentials."""
        started = time.perf_counter()
        response = self.client.request("GET", "/system")
        seconds = time.perf_counter() - started
        try:
            system = response.json()
        except ValueError as err:
            raise TransportError(f"{self.url}: /system did not answer JSON (is this Orthanc?): {err}") from err
        if not isinstance(system, dict) or "Version" not in system:
            raise TransportError(f"{self.url}: /system answered without a Version (is this Orthanc?)")
        return OrthancEchoResult(ok=True, status=response.status_code, seconds=seconds,
                                 version=str(system.get("Version", "")), name=str(system.get("Name", "")),
                                 api_version=system.get("ApiVersion"), dicom_aet=str(system.get("DicomAet", "")))

    def find(self, level: str, keys: Mapping[str, str], *, model: str = "study",
             limit: int | None = None) -> Iterator[Any]:
        """Matching resources as pydicom Datasets (``model`` is accepted for the contract: Orthanc
        has one hierarchy and needs no query model)."""
        level = self._level(level)
        if limit is not None and limit < 1:
            return iter(())
        finder = OrthancFind(self.client, page_size=self.settings.page_size,
                             case_sensitive=self.settings.case_sensitive)
        self.find_sources = finder.sources
        return finder.find(level, dict(keys), limit=limit)

    def retrieve(self, level: str, keys: Mapping[str, str], *, into: Any = None, destination: str | None = None,
                 model: str = "study", job_timeout: float | None = None) -> Iterator[RetrieveResult]:
        """Instances matching ``keys`` at ``level``, ``into`` an instance store or a folder, or with
        ``destination`` sent by Orthanc to that modality (see :mod:`gantry_orthanc.retrieving`)."""
        level = self._level(level)
        finder = OrthancFind(self.client, page_size=self.settings.page_size,
                             case_sensitive=self.settings.case_sensitive)
        if destination is not None:
            identifiers = [str(i) for i in finder.resources(level, dict(keys), expand=False)]
            return send_to_modality(self.client, identifiers, destination, timeout=job_timeout)
        store = self._instance_store(into)
        identifiers = [str(i) for i in finder.resources(level, dict(keys), expand=False)]
        return fetch_into(self.client, level, identifiers, store)

    def move_from(self, modality: str, level: str, keys: Mapping[str, str], *, target: str | None = None,
                  job_timeout: float | None = None) -> Iterator[RetrieveResult]:
        """Have Orthanc ask ``modality`` (one of its modalities: a PACS) to C-MOVE what matches
        ``keys`` at ``level`` to ``target`` (an AE title; default: Orthanc itself)."""
        return move_from_modality(self.client, modality, self._level(level), keys, target=target,
                                  timeout=job_timeout)

    def store(self, instances: Iterable[Any], **options: Any) -> Iterator[StoreResult]:
        """Upload files, folders, indexed instances, Datasets or bytes; one result per instance
        (options: ``continue_on_error``, ``progress``, ``associations``)."""
        return store_instances(self.client, instances, kernel=self.kernel, **options)

    def follow(self, since: int | None = None, *, changes: Iterable[str] = ("StableStudy",),
               poll_interval: float | None = None, idle_polls: int | None = None) -> ChangeFollower:
        """Orthanc's changes from ``since`` on (None: from now), ``StableStudy`` by default
        (add ``NewInstance`` ... to ``changes``); see :mod:`gantry_orthanc.changes`."""
        return ChangeFollower(self.client, since, changes=changes,
                              poll_interval=self.settings.poll_interval if poll_interval is None else poll_interval,
                              page_size=self.settings.page_size, idle_polls=idle_polls)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> OrthancTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OrthancTransport({self.url})"

    # -- helpers ----------------------------------------------------------------------------

    def _level(self, level: str) -> str:
        try:
            return normalise_level(level)
        except ValueError as err:
            raise TransportError(f"{self.url}: {err}") from None

    def _instance_store(self, into: Any) -> Any:
        if into is None:
            raise TransportError(f"{self.url}: retrieve needs `into` (an instance store or a folder) "
                                 f"or `destination` (an Orthanc modality)")
        if not isinstance(into, (str, os.PathLike)):
            return into
        kernel = self.kernel
        if kernel is None:
            from gantry.kernel import Kernel

            kernel = Kernel.from_config()
        return kernel.open_instance_store(os.fspath(into))
