"""Planning a send: which files go together on one association, with which contexts.

An association may propose at most 128 presentation contexts (PS3.8 9.3.2.2: the context ID is an
odd number below 256). Each file needs a context for its own (SOP class, transfer syntax), so that
its bytes go as they are, plus Explicit and Implicit VR Little Endian for its SOP class, so that a
peer refusing the file's syntax still leaves us something to transcode to. Consecutive files share
a batch until the next one would need more contexts than that, or the batch is full.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from gantry.transport import StoreResult
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

MAX_CONTEXTS = 128
#: Files per batch (one association each): long enough to amortise the association, short
#: enough that results and retries come in pieces.
MAX_BATCH_FILES = 1000
FALLBACK_SYNTAXES = (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)


@attrs.frozen(kw_only=True)
class Outgoing:
    """A DICOM file to send, as its header says."""

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str


#: A file is either ready to go or already failed (unreadable, not DICOM): failures keep their
#: place so results come back in the order the files were found.
Entry = Outgoing | StoreResult


@attrs.define
class Batch:
    entries: list[Entry] = attrs.field(factory=list)
    syntaxes: dict[str, set[str]] = attrs.field(factory=dict)
    """SOP class -> transfer syntaxes to propose for it (one context each)."""

    @property
    def context_count(self) -> int:
        return sum(len(syntaxes) for syntaxes in self.syntaxes.values())

    def contexts(self) -> list[tuple[str, tuple[str, ...]]]:
        # The file's own syntax first: pynetdicom's acceptor picks the first one it supports.
        return [(sop_class, (syntax,)) for sop_class, syntaxes in sorted(self.syntaxes.items())
                for syntax in sorted(syntaxes, key=lambda uid: (uid in FALLBACK_SYNTAXES, uid))]

    def outgoing(self) -> list[Outgoing]:
        return [entry for entry in self.entries if isinstance(entry, Outgoing)]

    def needs(self, item: Outgoing) -> int:
        """How many contexts the batch would have with ``item`` in it."""
        wanted = self.syntaxes.get(item.sop_class_uid, set(FALLBACK_SYNTAXES)) | {item.transfer_syntax_uid}
        return self.context_count - len(self.syntaxes.get(item.sop_class_uid, ())) + len(wanted)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        if isinstance(entry, Outgoing):
            self.syntaxes.setdefault(entry.sop_class_uid, set(FALLBACK_SYNTAXES)).add(entry.transfer_syntax_uid)


def batched(entries: Iterable[Entry], max_contexts: int = MAX_CONTEXTS,
            max_files: int = MAX_BATCH_FILES) -> Iterator[Batch]:
    """Group entries, in order, into batches that fit one association's contexts and hold at
    most ``max_files`` files to send."""
    batch, files = Batch(), 0
    for entry in entries:
        if isinstance(entry, Outgoing):
            if files and (batch.needs(entry) > max_contexts or files >= max_files):
                yield batch
                batch, files = Batch(), 0
            files += 1
        batch.add(entry)
    if batch.entries:
        yield batch
