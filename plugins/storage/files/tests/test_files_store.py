"""FileStore on real folders: layout, untrusted UIDs, dedup, conflicts, replace, open, delete."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from gantry import InstanceConflict, StorageError
from gantry.storage import InstanceStoreContract
from gantry_files.store import FileStore, open_store

CONTENT = b"DICM" + bytes(range(256)) * 40


def test_follows_the_contract(store):
    assert isinstance(store, InstanceStoreContract)
    assert store.url == store.root.as_uri()


def test_put_lays_out_study_series_instance(store, uids):
    stored = store.put(CONTENT, **uids)
    expected = store.root / uids["study_uid"] / uids["series_uid"] / (uids["sop_uid"] + ".dcm")
    assert stored.location == str(expected)
    assert expected.read_bytes() == CONTENT
    assert (stored.size, stored.digest, stored.existed) == (len(CONTENT), hashlib.sha256(CONTENT).hexdigest(), False)
    assert store.locate(**uids) == stored.location
    with store.open(stored.location) as handle:
        assert handle.read() == CONTENT


def test_put_accepts_memoryview_and_chunk_iterators(store, uids):
    one = store.put(memoryview(CONTENT), **uids)
    chunks = store.put(iter([CONTENT[:10], b"", bytearray(CONTENT[10:100]), memoryview(CONTENT)[100:]]), **uids)
    assert chunks.existed and chunks.digest == one.digest and chunks.size == len(CONTENT)


def test_locate_unknown_is_none(store, uids):
    assert store.locate(**uids) is None


def test_empty_instance_is_stored(store, uids):
    stored = store.put(b"", **uids)
    assert stored.size == 0 and Path(stored.location).read_bytes() == b""


EVIL = ["../../etc/passwd", "/etc/passwd", "..", ".", "", "a\0b", "1.2.3\0/../../x", "1" * 300,
        "x/" * 200, "..\\..\\windows", "CON", "NUL.dcm", "line\nbreak", "\x7f\x01", " ", "../" * 50]


@pytest.mark.parametrize("evil", EVIL)
@pytest.mark.parametrize("role", ["study_uid", "series_uid", "sop_uid"])
def test_untrusted_uids_stay_inside_the_root(tmp_path, store, uids, evil, role, files_below):
    given = {**uids, role: evil}
    stored = store.put(CONTENT, **given)
    location = Path(stored.location)
    assert location.resolve().parent.parent.parent == store.root
    assert all(len(part) <= 64 + len(".dcm") for part in location.relative_to(store.root).parts)
    assert store.locate(**given) == stored.location
    assert store.put(CONTENT, **given).existed
    assert os.listdir(tmp_path) == ["store"]  # nothing written next to the root
    assert files_below(store.root) == [str(location.relative_to(store.root))]


def test_all_traversal_attempts_at_once_stay_inside(tmp_path, store):
    for number, evil in enumerate(EVIL):
        store.put(CONTENT, study_uid=evil, series_uid=evil, sop_uid=evil + str(number))
    assert os.listdir(tmp_path) == ["store"]
    stored = [path for path in store.root.rglob("*.dcm")]
    assert len(stored) == len(EVIL)
    assert all(path.parent.parent.parent == store.root for path in stored)


def test_a_symbolic_link_inside_the_root_cannot_lead_a_write_out(tmp_path, store, uids):
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / uids["study_uid"]).symlink_to(outside, target_is_directory=True)
    with pytest.raises(StorageError, match="outside"):
        store.put(CONTENT, **uids)
    assert list(outside.iterdir()) == []


def test_identical_put_stores_once_and_touches_nothing(store, uids, files_below):
    first = store.put(CONTENT, **uids)
    path = Path(first.location)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # an old, recognisable mtime
    before = path.stat()
    again = store.put(CONTENT, **uids)
    streamed = store.put(iter([CONTENT]), **uids)
    assert again.existed and streamed.existed
    assert again.location == streamed.location == first.location
    assert again.digest == streamed.digest == first.digest
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert files_below(store.root) == [str(path.relative_to(store.root))]


@pytest.mark.parametrize("as_stream", [False, True])
@pytest.mark.parametrize("other", [CONTENT[:-1] + b"!", CONTENT + b"more", b""])
def test_different_content_is_a_conflict_and_keeps_the_original(store, uids, temporaries, as_stream, other):
    stored = store.put(CONTENT, **uids)
    with pytest.raises(InstanceConflict, match=uids["sop_uid"]):
        store.put(iter([other]) if as_stream else other, **uids)
    assert Path(stored.location).read_bytes() == CONTENT
    assert temporaries(store.root) == []


@pytest.mark.parametrize("as_stream", [False, True])
def test_replace_swaps_the_content(store, uids, temporaries, as_stream):
    first = store.put(CONTENT, **uids)
    new = b"new content"
    replaced = store.put(iter([new]) if as_stream else new, replace=True, **uids)
    assert not replaced.existed and replaced.location == first.location
    assert replaced.digest == hashlib.sha256(new).hexdigest()
    assert Path(first.location).read_bytes() == new
    assert store.put(new, replace=True, **uids).existed  # identical: nothing to replace
    assert temporaries(store.root) == []


def test_put_file_copies(tmp_path, store, uids):
    source = tmp_path / "in.dcm"
    source.write_bytes(CONTENT)
    stored = store.put_file(str(source), **uids)
    assert Path(stored.location).read_bytes() == CONTENT and not stored.existed
    assert store.put_file(str(source), **uids).existed
    assert store.put_file(stored.location, **uids).existed  # onto itself


def test_put_file_of_a_missing_file_is_a_storage_error(tmp_path, store, uids):
    with pytest.raises(StorageError, match="missing.dcm.*No such file"):
        store.put_file(str(tmp_path / "missing.dcm"), **uids)
    assert list(store.root.iterdir()) == []


def test_stored_files_get_the_configured_mode(tmp_path, uids):
    store = FileStore(tmp_path / "store", file_mode=0o640)
    stored = store.put(CONTENT, **uids)
    assert Path(stored.location).stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("location", ["/etc/passwd", "../outside.dcm", "a/../../outside.dcm", "", ".",
                                      "x\0y", "/"])
def test_open_and_delete_refuse_locations_outside_the_root(tmp_path, store, location):
    (tmp_path / "outside.dcm").write_bytes(b"keep me")
    with pytest.raises(StorageError):
        store.open(location)
    with pytest.raises(StorageError):
        store.delete(location)
    assert (tmp_path / "outside.dcm").read_bytes() == b"keep me"
    assert store.root.is_dir()


def test_open_accepts_locations_relative_to_the_root(store, uids):
    stored = store.put(CONTENT, **uids)
    with store.open(str(Path(stored.location).relative_to(store.root))) as handle:
        assert handle.read() == CONTENT


def test_open_of_a_missing_instance_is_a_storage_error(store):
    with pytest.raises(StorageError, match="No such file"):
        store.open("1.2/3.4/5.6.dcm")


def test_delete_removes_the_file_and_empty_folders(store, uids):
    neighbour = store.put(CONTENT, **{**uids, "sop_uid": "1.2.3.4"})
    stored = store.put(CONTENT, **uids)
    store.delete(stored.location)
    assert store.locate(**uids) is None
    assert Path(neighbour.location).exists()  # its series folder stays
    store.delete(neighbour.location)
    assert list(store.root.iterdir()) == []  # study and series folders pruned, the root stays
    store.delete(neighbour.location)  # already gone: fine


def test_delete_refuses_a_folder(store, uids):
    stored = store.put(CONTENT, **uids)
    with pytest.raises(StorageError):
        store.delete(str(Path(stored.location).parent))
    assert Path(stored.location).exists()


def test_open_store_reads_file_urls(tmp_path):
    folder = tmp_path / "my store #2"
    assert open_store(folder.as_uri(), {}).root == folder.resolve()
    assert open_store("file://" + str(folder), {}).root == folder.resolve()  # the kernel's form
    assert open_store("file://localhost" + str(folder), {"fsync": False}).fsync is False


@pytest.mark.parametrize("url", ["http://host/x", "file://otherhost/srv", "file:relative", "/srv/x"])
def test_open_store_refuses_other_urls(url):
    with pytest.raises(StorageError, match="not a local folder URL"):
        open_store(url, {})


def test_a_root_that_is_a_file_is_a_storage_error(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StorageError, match="cannot use"):
        FileStore(tmp_path / "file")


def test_bad_file_mode_is_refused(tmp_path):
    with pytest.raises(StorageError, match="file_mode"):
        FileStore(tmp_path, file_mode=0o10000)
