"""What the C-STORE SCU sends besides files and folders: instances from the index.

A source is a path (a file or a folder, walked as ``gantry ingest`` walks them) or an indexed
instance: an index row (``session.query("instance", ...)``), a :class:`gantry.model.Instance`, an
:class:`gantry.storage.IndexRecord`, or anything else with a ``location`` (a
:class:`gantry.storage.StoredInstance`). An indexed instance goes from its ``location``; its SOP
class, SOP instance and transfer syntax come from the index when it has them (no file is read
to plan the send), otherwise from the file's header as for a path.

    rows = select(kernel, {"PatientID": "123", "StudyDate": "2024"})   # the site's index
    peer.store(rows)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gantry.ingest import Rejection, walk
from gantry.sources import NoInstanceFile, instance_file, store_folder
from gantry.transport import StoreResult

from gantry_cstore.batches import Entry, Outgoing

FIELDS = ("location", "SOPClassUID", "SOPInstanceUID", "transfer_syntax_uid")


def select(kernel: Any, keys: Mapping[str, str], database: str | None = None) -> list[dict[str, Any]]:
    """Instance rows of the index (``database``, default ``storage.database``) matching ``keys``
    with DICOM matching (wildcards, date ranges, UID lists), in the index's stable order."""
    from gantry.session import Session

    with Session(database, kernel=kernel) as session:
        return session.query("instance", dict(keys))


def expand(kernel: Any, sources: Iterable[Any], rejected: list[Rejection]) -> Iterator[str | Entry]:
    """For each source, in order: the paths of its files (to identify), or its indexed instance
    as an entry; a path that cannot be read goes to ``rejected``."""
    store_root: str | None = None
    for source in sources:
        if isinstance(source, (str, os.PathLike)):
            yield from (path for path, _size, _mtime in walk([source], rejected))
            continue
        if store_root is None:
            store_root = store_folder(kernel)
        yield indexed_entry(source, store_root)


def indexed_entry(source: Any, store_root: str = "") -> str | Entry:
    """An indexed instance as an entry; its path alone when the index lacks its SOP class,
    instance or transfer syntax (the header is then read as for any file)."""
    fields = _fields(source)
    try:
        location = instance_file(source, store_root)
    except NoInstanceFile as err:
        return StoreResult(source=err.source, sop_instance_uid=err.sop_uid, reason=str(err))
    sop_uid = fields["SOPInstanceUID"]
    if not (fields["SOPClassUID"] and sop_uid and fields["transfer_syntax_uid"]):
        return location
    return Outgoing(path=location, sop_class_uid=fields["SOPClassUID"], sop_instance_uid=sop_uid,
                    transfer_syntax_uid=fields["transfer_syntax_uid"])


def _fields(source: Any) -> dict[str, str]:
    if isinstance(source, Mapping):  # an index row
        values: Mapping[str, Any] = source
    elif hasattr(source, "attributes"):  # an IndexRecord
        values = {**source.attributes, "location": source.location,
                  "transfer_syntax_uid": source.transfer_syntax_uid or source.attributes.get("TransferSyntaxUID")}
    else:  # a model Instance, a StoredInstance ...
        values = {"location": getattr(source, "location", ""), "SOPClassUID": getattr(source, "sop_class_uid", ""),
                  "SOPInstanceUID": getattr(source, "sop_instance_uid", ""),
                  "transfer_syntax_uid": getattr(source, "transfer_syntax_uid", "")}
    return {key: str(values.get(key) or "") for key in FIELDS}
