"""Following new arrivals through Orthanc's ``GET /changes?since=N&limit=M``.

    follower = orthanc.follow(since=None, changes=("StableStudy",), poll_interval=2)
    for change in follower:            # blocks between polls; follower.stop() ends it
        print(change.seq, change.study_instance_uid)
    follower.last_seq                  # where to resume: orthanc.follow(since=follower.last_seq)

``since=None`` starts at Orthanc's newest change (only what arrives from now on); ``since=0``
replays everything Orthanc still remembers. ``last_seq`` is the Seq of the last change handed to
the caller or skipped as not asked for, so resuming from it neither repeats nor misses any.
Orthanc says a study is stable when no instance arrived for ``StableAge`` seconds (its setting).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from gantry import TransportError
from gantry.log import get_logger

from gantry_orthanc.client import OrthancClient, OrthancHTTPError

log = get_logger("gantry.orthanc")

CHANGE_TYPES = ("NewInstance", "NewSeries", "NewStudy", "NewPatient", "StableSeries", "StableStudy",
                "StablePatient", "Deleted", "UpdatedAttachment", "UpdatedMetadata", "NewChildInstance",
                "CompletedSeries", "JobSubmitted", "JobSuccess", "JobFailure")
UID_OF = {"Study": ("studies", "StudyInstanceUID"), "Series": ("series", "SeriesInstanceUID"),
          "Instance": ("instances", "SOPInstanceUID")}


@attrs.frozen(kw_only=True)
class OrthancChange:
    seq: int
    change_type: str
    resource_type: str
    resource_id: str
    """The Orthanc identifier of the resource."""
    path: str = ""
    date: str = ""
    uid: str = ""
    """The resource's DICOM UID (StudyInstanceUID for a study ...), "" when deleted meanwhile."""

    @property
    def study_instance_uid(self) -> str:
        return self.uid if self.resource_type == "Study" else ""


class ChangeFollower:
    """An iterator over Orthanc's changes (see the module docstring)."""

    def __init__(self, client: OrthancClient, since: int | None = None, *,
                 changes: Iterable[str] = ("StableStudy",), poll_interval: float = 2.0, page_size: int = 100,
                 idle_polls: int | None = None) -> None:
        self.client = client
        self.last_seq = since
        self.changes = tuple(changes)
        unknown = sorted(set(self.changes) - set(CHANGE_TYPES))
        if unknown:
            raise ValueError(f"unknown change type(s) {', '.join(unknown)}; Orthanc's are {', '.join(CHANGE_TYPES)}")
        self.poll_interval = poll_interval
        self.page_size = max(1, page_size)
        self.idle_polls = idle_polls
        """Stop after this many consecutive polls found nothing new (None: follow until stop())."""
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def __iter__(self) -> Iterator[OrthancChange]:
        if self.last_seq is None:
            newest = self.client.get_json("/changes", {"last": ""})
            self.last_seq = int(newest.get("Last", 0) or 0)
            log.info("orthanc.follow.start", url=self.client.url, since=self.last_seq)
        idle = 0
        while not self._stop.is_set():
            page = self.client.get_json("/changes", {"since": self.last_seq, "limit": self.page_size})
            entries = page.get("Changes") or []
            for entry in entries:
                seq = int(entry.get("Seq", 0))
                if seq <= (self.last_seq or 0):
                    continue
                if entry.get("ChangeType") in self.changes:
                    change = self._change(entry)
                    self.last_seq = seq
                    yield change
                    if self._stop.is_set():
                        return
                else:
                    self.last_seq = seq
            last = int(page.get("Last", self.last_seq) or 0)
            if last > (self.last_seq or 0):
                self.last_seq = last
            if entries and not page.get("Done", True):
                idle = 0
                continue  # more waiting: no pause
            idle = 0 if entries else idle + 1
            if self.idle_polls is not None and idle >= self.idle_polls:
                return
            self._stop.wait(self.poll_interval)

    def _change(self, entry: dict[str, Any]) -> OrthancChange:
        resource_type = str(entry.get("ResourceType", ""))
        identifier = str(entry.get("ID", ""))
        uid = ""
        if resource_type in UID_OF:
            collection, keyword = UID_OF[resource_type]
            try:
                resource = self.client.get_json(f"/{collection}/{identifier}")
                uid = str((resource.get("MainDicomTags") or {}).get(keyword, ""))
            except OrthancHTTPError as err:
                if err.status != 404:
                    raise
        return OrthancChange(seq=int(entry.get("Seq", 0)), change_type=str(entry.get("ChangeType", "")),
                             resource_type=resource_type, resource_id=identifier, path=str(entry.get("Path", "")),
                             date=str(entry.get("Date", "")), uid=uid)


__all__ = ["ChangeFollower", "OrthancChange", "TransportError"]
