"""The file-system steps of an atomic, durable write, and the sweep of what a crash leaves.

A write goes to a temporary file in the destination folder (same folder, so the final rename or
link never crosses a file system), is hashed on the way, flushed to disk, then given its final
name in one step. Temporary names start with :data:`TEMP_PREFIX`, which no stored name can start
with (those start with a digit or ``x-``), so a sweep can find and remove them safely.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from gantry import StorageError

TEMP_PREFIX = ".gantry-tmp-"
TEMP_SUFFIX = ".part"
CHUNK_SIZE = 1 << 20


def reason(err: OSError) -> str:
    """The OS's own words for an error (``No space left on device``), for messages."""
    return err.strerror or str(err) or type(err).__name__


def create_temporary(folder: Path, mode: int) -> tuple[int, Path]:
    """A new, uniquely named, empty temporary file in ``folder``: ``(descriptor, path)``."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    try:
        os.fchmod(fd, mode)  # mkstemp makes it 0600; the stored file should get the site's mode
    except BaseException:
        os.close(fd)
        remove_quietly(Path(name))
        raise
    return fd, Path(name)


def fill_temporary(fd: int, chunks: Iterable[bytes | bytearray | memoryview], *, fsync: bool,
                   what: str) -> tuple[int, str]:
    """Write every chunk to ``fd`` (then close it): ``(size, sha256 hex)``.

    Errors raised by ``chunks`` itself propagate unchanged: they are the caller's (a dropped
    association, a bad value). Errors writing to disk become a StorageError about ``what``.
    """
    digest = hashlib.sha256()
    size = 0
    with open(fd, "wb", closefd=True) as out:
        source = iter(chunks)
        while True:
            chunk = next(source, None)
            if chunk is None:
                break
            digest.update(chunk)
            size += memoryview(chunk).nbytes
            try:
                out.write(chunk)
            except OSError as err:
                raise StorageError(f"could not write {what}: {reason(err)}") from err
        try:
            out.flush()
            if fsync:
                os.fsync(out.fileno())
        except OSError as err:
            raise StorageError(f"could not write {what}: {reason(err)}") from err
    return size, digest.hexdigest()


def file_digest(path: Path) -> tuple[int, str]:
    """``(size, sha256 hex)`` of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb") as source:
        while count := source.readinto(buffer):
            digest.update(view[:count])
            size += count
    return size, digest.hexdigest()


def fsync_directory(folder: Path) -> None:
    """Make the folder's entries (a new name, a removed name) durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FolderFlusher:
    """``fsync_directory`` shared by concurrent writers (group commit).

    Writers that named files in one folder at about the same time (several associations
    receiving one series) need one flush of it, not one each: a flush that *starts* after a
    writer's rename covers that rename. A writer takes a ticket after its rename; if a flush
    begun since covers its ticket it returns at once, if one is running it waits for the next,
    otherwise it flushes for everyone holding a ticket so far.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[Path, _FolderState] = {}

    def flush(self, folder: Path) -> None:
        with self._lock:
            state = self._folders.setdefault(folder, _FolderState())
            state.users += 1
        try:
            self._flush(folder, state)
        finally:
            with self._lock:
                state.users -= 1
                if not state.users:  # nobody waits on it: forget the folder
                    self._folders.pop(folder, None)

    @staticmethod
    def _flush(folder: Path, state: _FolderState) -> None:
        with state.changed:
            state.tickets += 1
            ticket = state.tickets
            while state.flushed < ticket:
                if state.flushing:
                    state.changed.wait()
                    continue
                state.flushing, upto = True, state.tickets
                state.changed.release()
                try:
                    fsync_directory(folder)
                finally:
                    state.changed.acquire()
                    state.flushing = False
                    state.changed.notify_all()
                # Only a success covers the others; after a failure each flushes for itself.
                state.flushed = max(state.flushed, upto)


class _FolderState:
    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.tickets = 0
        self.flushed = 0
        self.flushing = False
        self.users = 0


def remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def stale_temporaries(root: Path, older_than: float) -> Iterable[Path]:
    """Temporary files below ``root`` last written more than ``older_than`` seconds ago.

    A write in progress touches its file with every chunk, so only abandoned ones are old.
    """
    cutoff = time.time() - older_than
    for folder, _dirs, files in os.walk(root):  # does not follow symbolic links
        for name in files:
            if not name.startswith(TEMP_PREFIX):
                continue
            path = Path(folder, name)
            try:
                if path.lstat().st_mtime < cutoff:
                    yield path
            except FileNotFoundError:
                continue  # finished or swept by someone else meanwhile


def read_in_chunks(source: BinaryIO, what: str) -> Iterable[memoryview]:
    """The contents of an open file as chunks of one reused buffer.

    Each chunk is valid only until the next one is asked for, which suits the writer above:
    it hashes and writes a chunk before it asks for the next.
    """
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while True:
        try:
            count = source.readinto(buffer)
        except OSError as err:
            raise StorageError(f"could not read {what}: {reason(err)}") from err
        if not count:
            return
        yield view[:count]
