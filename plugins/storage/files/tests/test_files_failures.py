"""A write that fails leaves nothing behind; a crash's leftovers are swept by cleanup()."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from gantry import StorageError
from gantry_files.atomic import TEMP_PREFIX, TEMP_SUFFIX

CONTENT = b"DICM" + os.urandom(100_000)


class SourceBroke(Exception):
    pass


def breaking_source():
    yield CONTENT[:50_000]
    raise SourceBroke("association dropped")


def failing(name: str, code: int = errno.EIO):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    fail.__name__ = name
    return fail


def test_a_source_that_raises_mid_stream_leaves_nothing(store, uids, files_below):
    with pytest.raises(SourceBroke, match="association dropped"):  # the caller's error, unchanged
        store.put(breaking_source(), **uids)
    assert files_below(store.root) == []
    assert list(store.root.iterdir()) == []  # the folders made for it are gone too
    assert store.locate(**uids) is None


def test_a_source_that_raises_keeps_other_instances(store, uids, files_below):
    neighbour = store.put(CONTENT, **{**uids, "sop_uid": "1.2.3"})
    with pytest.raises(SourceBroke):
        store.put(breaking_source(), **uids)
    assert files_below(store.root) == [str(Path(neighbour.location).relative_to(store.root))]


@pytest.mark.parametrize("as_stream", [False, True])
def test_fsync_failure_is_a_storage_error_and_leaves_nothing(monkeypatch, store, uids, files_below, as_stream):
    monkeypatch.setattr(os, "fsync", failing("fsync"))
    with pytest.raises(StorageError) as caught:
        store.put(iter([CONTENT]) if as_stream else CONTENT, **uids)
    assert uids["sop_uid"] in str(caught.value) and "Input/output error" in str(caught.value)
    monkeypatch.undo()
    assert files_below(store.root) == []


def test_link_failure_is_a_storage_error_and_leaves_nothing(monkeypatch, store, uids, files_below):
    monkeypatch.setattr(os, "link", failing("link", errno.ENOSPC))
    with pytest.raises(StorageError, match="No space left on device") as caught:
        store.put(CONTENT, **uids)
    assert uids["sop_uid"] in str(caught.value)
    assert files_below(store.root) == []


def test_a_failed_replace_keeps_the_original(monkeypatch, store, uids, files_below, temporaries):
    stored = store.put(CONTENT, **uids)
    monkeypatch.setattr(os, "replace", failing("replace", errno.EROFS))
    with pytest.raises(StorageError, match="Read-only file system"):
        store.put(b"other", replace=True, **uids)
    assert Path(stored.location).read_bytes() == CONTENT
    assert temporaries(store.root) == []
    assert files_below(store.root) == [str(Path(stored.location).relative_to(store.root))]


def test_a_disk_that_fills_mid_stream_leaves_nothing(monkeypatch, store, uids, files_below):
    import gantry_files.atomic as atomic

    class FillsUp:
        """A file object whose second write finds the disk full."""

        def __init__(self, real):
            self.real, self.writes = real, 0

        def write(self, data):
            self.writes += 1
            if self.writes > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.real.write(data)

        def __getattr__(self, name):
            return getattr(self.real, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.real.__exit__(*exc)

    monkeypatch.setattr(atomic, "open", lambda *a, **k: FillsUp(open(*a, **k)), raising=False)
    with pytest.raises(StorageError, match="No space left on device"):
        store.put(iter([CONTENT, CONTENT]), **uids)
    monkeypatch.undo()
    assert files_below(store.root) == []


def test_without_hard_links_the_store_still_works(monkeypatch, store, uids, temporaries):
    monkeypatch.setattr(os, "link", failing("link", errno.EPERM))
    stored = store.put(iter([CONTENT]), **uids)
    assert Path(stored.location).read_bytes() == CONTENT and not stored.existed
    assert store.put(iter([CONTENT]), **uids).existed
    with pytest.raises(StorageError):  # InstanceConflict is a StorageError
        store.put(iter([b"other"]), **uids)
    assert temporaries(store.root) == []


def test_cleanup_removes_only_stale_temporaries(store, uids):
    stored = store.put(CONTENT, **uids)
    series = Path(stored.location).parent
    stale = series / f"{TEMP_PREFIX}crashed{TEMP_SUFFIX}"
    fresh = series / f"{TEMP_PREFIX}writing{TEMP_SUFFIX}"
    lonely = store.root / "1.9" / "1.9.1" / f"{TEMP_PREFIX}alone{TEMP_SUFFIX}"
    lonely.parent.mkdir(parents=True)
    for path in (stale, fresh, lonely):
        path.write_bytes(b"half an instance")
    an_hour_ago = time.time() - 3700
    for path in (stale, lonely):
        os.utime(path, (an_hour_ago, an_hour_ago))
    os.utime(stored.location, (an_hour_ago, an_hour_ago))  # old, but a stored instance

    assert store.cleanup(older_than=3600) == 2
    assert not stale.exists() and not lonely.exists()
    assert fresh.exists() and Path(stored.location).read_bytes() == CONTENT
    assert not (store.root / "1.9").exists()  # folders left empty are pruned
    assert store.cleanup(older_than=0) == 1  # everything temporary, however fresh
    assert not fresh.exists()
