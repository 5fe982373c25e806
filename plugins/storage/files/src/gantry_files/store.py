"""The ``file://`` instance store: ``root/<study>/<series>/<sop>.dcm``.

Follows :class:`gantry.storage.InstanceStoreContract`. The guarantees, and how they are kept:

* **Inside the root.** Every UID becomes a name through :func:`gantry_files.names.safe_name`,
  and the resolved path is checked to lie inside the root (a symbolic link planted inside the
  root cannot lead a write out of it). Locations given back to ``open``/``delete`` are checked
  the same way.
* **Atomic.** Bytes go to a temporary file in the destination folder and get their final name
  in one step (``os.link`` or ``os.replace``); a reader sees the whole instance or none of it.
  On failure the temporary file is removed.
* **Durable** (``fsync=True``). The file is flushed before it is named, and the folder after.
* **Stored once.** Without ``replace``, the final name is made with ``os.link``, which fails if
  the name exists, even when another thread or process got there a moment earlier; the loser
  compares contents: identical is ``existed=True``, different is an InstanceConflict.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

from gantry import InstanceConflict, StorageError
from gantry.storage import StoredInstance
from gantry_files import atomic
from gantry_files.names import safe_name

EXTENSION = ".dcm"
DEFAULT_FILE_MODE = 0o644
#: ``os.link`` fails with these where a file system has no hard links (FAT, some network mounts).
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})
#: A concurrent ``delete`` may prune the folder between creating it and creating the temporary
#: file in it, or remove the file a loser is comparing against: retry that many times.
_ATTEMPTS = 20

Chunks = Iterable[bytes | bytearray | memoryview]


def open_store(url: str, settings: Mapping[str, Any]) -> FileStore:
    """``InstanceStore.open``: ``file:///srv/gantry/store`` (the kernel turns folders into that).

    Parsed by hand rather than with ``urlsplit``: a URL written by a person may hold an unescaped
    ``#`` or ``?`` (a folder named ``scans#2`` must not lose ``#2`` as a fragment). ``%xx``
    escapes, as the kernel's ``Path.as_uri`` writes them, are decoded.
    """
    scheme, separator, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if scheme.lower() != "file" or not separator or host.lower() not in ("", "localhost") or not slash:
        raise StorageError(f"{url!r} is not a local folder URL (expected e.g. file:///srv/gantry/store)")
    return FileStore(unquote("/" + path), fsync=bool(settings.get("fsync", True)),
                     file_mode=settings.get("file_mode", DEFAULT_FILE_MODE))


class FileStore:
    """Instance files in a folder, one sub-folder per study and per series."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True,
                 file_mode: int = DEFAULT_FILE_MODE) -> None:
        if isinstance(file_mode, bool) or not isinstance(file_mode, int) or not 0 <= file_mode <= 0o777:
            raise StorageError(f"file_mode must be permission bits between 0o000 and 0o777, got {file_mode!r}")
        try:
            os.makedirs(root, exist_ok=True)
            # Resolved once: every containment check compares resolved paths against this one.
            self.root = Path(root).resolve(strict=True)
        except (OSError, ValueError) as err:
            raise StorageError(f"cannot use {os.fspath(root)!r} as an instance store: {_why(err)}") from err
        if not self.root.is_dir():
            raise StorageError(f"cannot use {str(self.root)!r} as an instance store: not a folder")
        self.fsync = fsync
        self.file_mode = file_mode
        self._folder_flusher = atomic.FolderFlusher()
        self.url = self.root.as_uri()

    def __getstate__(self) -> dict[str, object]:  # sent to worker processes: locks stay behind
        return {key: value for key, value in self.__dict__.items() if key != "_folder_flusher"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._folder_flusher = atomic.FolderFlusher()

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r}, fsync={self.fsync})"

    # --- the contract ----------------------------------------------------------------------
    def put(self, data: bytes | bytearray | memoryview | Iterator[bytes], *, study_uid: str,
            series_uid: str, sop_uid: str, replace: bool = False) -> StoredInstance:
        """Store an instance given whole or as an iterator of chunks (as a network receiver has it)."""
        target = self._target(study_uid, series_uid, sop_uid)
        if isinstance(data, (bytes, bytearray, memoryview)):
            whole = memoryview(data).cast("B")
            # Known in advance: decide about an existing file before writing anything.
            if self._exists(target, sop_uid):
                size, digest = whole.nbytes, hashlib.sha256(whole).hexdigest()
                if self._same_content(target, size, digest, sop_uid):
                    return StoredInstance(location=str(target), size=size, digest=digest, existed=True)
                if not replace:
                    raise self._conflict(target, sop_uid, size)
            return self._write(target, [whole], sop_uid, replace)
        return self._write(target, data, sop_uid, replace)

    def put_file(self, path: str, *, study_uid: str, series_uid: str, sop_uid: str,
                 replace: bool = False) -> StoredInstance:
        """Copy a file in, chunk by chunk (never the whole file in memory)."""
        target = self._target(study_uid, series_uid, sop_uid)
        try:
            source: BinaryIO = open(path, "rb")
        except (OSError, ValueError) as err:
            raise StorageError(f"cannot read {path!r} to store instance {sop_uid!r}: {_why(err)}") from err
        with source:
            return self._write(target, atomic.read_in_chunks(source, repr(path)), sop_uid, replace)

    def open(self, location: str) -> BinaryIO:
        path = self._inside(location)
        try:
            return open(path, "rb")
        except OSError as err:
            raise StorageError(f"cannot open stored instance {location!r}: {_why(err)}") from err

    def delete(self, location: str) -> None:
        """Remove an instance file and the folders it leaves empty. Already gone is fine."""
        path = self._inside(location)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise StorageError(f"cannot delete stored instance {location!r}: {_why(err)}") from err
        else:
            if self.fsync:
                self._fsync_folder(path.parent, location)
        self._prune(path.parent)

    def locate(self, *, study_uid: str, series_uid: str, sop_uid: str) -> str | None:
        target = self._target(study_uid, series_uid, sop_uid)
        return str(target) if target.is_file() else None

    # --- maintenance -----------------------------------------------------------------------
    def cleanup(self, older_than: float = 3600.0) -> int:
        """Remove temporary files abandoned by a crash (untouched for ``older_than`` seconds).

        Returns how many were removed. Writes in progress keep their files fresh, so a sweep
        while the store is in use is safe as long as ``older_than`` exceeds any stall.
        """
        removed = 0
        for path in list(atomic.stale_temporaries(self.root, older_than)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as err:
                raise StorageError(f"cannot remove stale temporary file {str(path)!r}: {_why(err)}") from err
            removed += 1
            self._prune(path.parent)
        return removed

    # --- paths -----------------------------------------------------------------------------
    def _target(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        for role, uid in (("study", study_uid), ("series", series_uid), ("SOP instance", sop_uid)):
            if not isinstance(uid, str):
                raise StorageError(f"the {role} UID must be text, got {type(uid).__name__}")
        target = self.root / safe_name(study_uid) / safe_name(series_uid) / (safe_name(sop_uid) + EXTENSION)
        # Second guard, should the naming ever let something through, and against symbolic
        # links inside the root that point elsewhere. The root is resolved and the names are
        # safe, so only a symbolic link among these three could lead out: three lstat calls
        # instead of resolving the whole path (a received instance's busiest step otherwise).
        for path in (target.parent.parent, target.parent, target):
            try:
                is_link = stat.S_ISLNK(os.lstat(path).st_mode)
            except FileNotFoundError:
                break  # nor anything below it
            except OSError as err:
                raise StorageError(f"cannot store instance {sop_uid!r} at {str(target)!r}: {_why(err)}") from err
            if is_link:
                raise StorageError(f"refusing to store instance {sop_uid!r}: {str(target)!r} leads outside "
                                   f"the store {str(self.root)!r} (a symbolic link)")
        return target

    def _inside(self, location: str) -> Path:
        """The resolved path of a location (absolute, or relative to the root) inside the root."""
        try:
            path = (self.root / location).resolve()  # an absolute location replaces the root
        except (OSError, ValueError, TypeError, RuntimeError) as err:
            raise StorageError(f"{location!r} is not a location in this store: {_why(err)}") from err
        if path == self.root or not path.is_relative_to(self.root):
            raise StorageError(f"{location!r} is not a location in the store {str(self.root)!r}")
        return path

    def _make_folders(self, folder: Path, sop_uid: str) -> None:
        missing = []
        while folder != self.root and not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            try:
                new.mkdir()
            except FileExistsError:
                continue  # made by a concurrent write
            except FileNotFoundError:
                raise  # a concurrent delete pruned the parent: the caller starts over
            except OSError as err:
                raise StorageError(f"cannot store instance {sop_uid!r}: cannot create {str(new)!r}: "
                                   f"{_why(err)}") from err
            if self.fsync:  # a durable file needs a durable path to it
                self._fsync_folder(new.parent, sop_uid)

    def _prune(self, folder: Path) -> None:
        # Best effort, no fsync: an empty folder that comes back after a crash harms nobody.
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty (or already gone): the folders above are not empty either
            folder = folder.parent

    def _fsync_folder(self, folder: Path, about: str) -> None:
        try:
            self._folder_flusher.flush(folder)
        except FileNotFoundError:
            # The file was just named in it, so the folder existed: a concurrent delete removed
            # the file and pruned the folder since. Nothing of ours is left there to make durable.
            return
        except OSError as err:
            raise StorageError(f"cannot flush folder {str(folder)!r} for {about!r}: {_why(err)}") from err

    # --- writing ---------------------------------------------------------------------------
    def _write(self, target: Path, chunks: Chunks, sop_uid: str, replace: bool) -> StoredInstance:
        fd, temporary = self._create_temporary(target.parent, sop_uid)
        try:
            size, digest = atomic.fill_temporary(fd, chunks, fsync=self.fsync, what=f"instance {sop_uid!r}")
            existed = self._publish(temporary, target, size, digest, sop_uid, replace)
            if self.fsync and not existed:
                self._fsync_folder(target.parent, sop_uid)
        except BaseException:
            atomic.remove_quietly(temporary)
            self._prune(target.parent)  # folders this write created, unless someone else uses them
            raise
        return StoredInstance(location=str(target), size=size, digest=digest, existed=existed)

    def _create_temporary(self, folder: Path, sop_uid: str) -> tuple[int, Path]:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                self._make_folders(folder, sop_uid)
                return atomic.create_temporary(folder, self.file_mode)
            except FileNotFoundError:
                if attempt == _ATTEMPTS:  # a concurrent delete keeps pruning the folder
                    raise StorageError(f"cannot store instance {sop_uid!r}: {str(folder)!r} keeps "
                                       "disappearing") from None
            except OSError as err:
                raise StorageError(f"cannot store instance {sop_uid!r} in {str(folder)!r}: "
                                   f"{_why(err)}") from err
        raise AssertionError("unreachable")

    def _publish(self, temporary: Path, target: Path, size: int, digest: str, sop_uid: str,
                 replace: bool) -> bool:
        """Give the written temporary file its final name; True when an identical file was there.

        The temporary file is gone afterwards, whatever happened.
        """
        try:
            for _attempt in range(_ATTEMPTS):
                if replace:
                    if self._same_content(target, size, digest, sop_uid):
                        return True
                    os.replace(temporary, target)
                    return False
                try:
                    # Unlike a rename, a link never overwrites: exactly one concurrent writer wins.
                    os.link(temporary, target)
                except FileExistsError:
                    if self._same_content(target, size, digest, sop_uid):
                        return True
                    if self._exists(target, sop_uid):
                        raise self._conflict(target, sop_uid, size) from None
                    continue  # deleted while we compared: try again
                except OSError as err:
                    if err.errno not in _NO_HARD_LINKS:
                        raise
                    return self._publish_without_links(temporary, target, size, digest, sop_uid)
                return False
            raise StorageError(f"cannot store instance {sop_uid!r}: {str(target)!r} keeps changing")
        except OSError as err:
            raise StorageError(f"cannot store instance {sop_uid!r} as {str(target)!r}: {_why(err)}") from err
        finally:
            atomic.remove_quietly(temporary)

    def _publish_without_links(self, temporary: Path, target: Path, size: int, digest: str,
                               sop_uid: str) -> bool:
        # Without hard links there is no portable "rename unless it exists": check, then rename.
        # Two writers of *different* content racing here can both succeed (the last one stays).
        if self._exists(target, sop_uid):
            if self._same_content(target, size, digest, sop_uid):
                return True
            raise self._conflict(target, sop_uid, size)
        os.replace(temporary, target)
        return False

    # --- comparing -------------------------------------------------------------------------
    def _exists(self, target: Path, sop_uid: str) -> bool:
        try:
            target.lstat()  # lstat: a dangling symbolic link still takes the name
            return True
        except FileNotFoundError:
            return False
        except OSError as err:
            raise StorageError(f"cannot check stored instance {sop_uid!r} at {str(target)!r}: "
                               f"{_why(err)}") from err

    def _same_content(self, target: Path, size: int, digest: str, sop_uid: str) -> bool:
        """Is ``target`` a file holding exactly these bytes? (False when it does not exist.)"""
        try:
            if target.stat().st_size != size:  # cheap, and settles most conflicts
                return False
            return atomic.file_digest(target) == (size, digest)
        except FileNotFoundError:
            return False
        except OSError as err:
            raise StorageError(f"cannot compare with stored instance {sop_uid!r} at {str(target)!r}: "
                               f"{_why(err)}") from err

    def _conflict(self, target: Path, sop_uid: str, size: int) -> InstanceConflict:
        return InstanceConflict(
            f"instance {sop_uid!r} is already stored at {str(target)!r} with different content "
            f"(the new one has {size} bytes); store it with replace=True to overwrite"
        )


def _why(err: BaseException) -> str:
    return atomic.reason(err) if isinstance(err, OSError) else str(err)
