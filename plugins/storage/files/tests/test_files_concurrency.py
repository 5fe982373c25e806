"""Writers racing on one instance, in threads and in processes, end with one correct file."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from gantry import InstanceConflict

CONTENT = os.urandom(2 << 20)  # big enough for writes to overlap
DIGEST = hashlib.sha256(CONTENT).hexdigest()


def chunks_of(data: bytes, size: int = 64 << 10):
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("as_stream", [False, True])
def test_threads_storing_one_instance_store_it_once(store, uids, files_below, as_stream):
    writers = 8
    barrier = threading.Barrier(writers)
    results, errors = [], []

    def write() -> None:
        barrier.wait()
        try:
            results.append(store.put(chunks_of(CONTENT) if as_stream else CONTENT, **uids))
        except Exception as err:  # collected: an exception in a thread would go unnoticed
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(not result.existed for result in results) == 1  # exactly one wrote
    assert {(result.location, result.digest) for result in results} == {(results[0].location, DIGEST)}
    assert Path(results[0].location).read_bytes() == CONTENT
    assert files_below(store.root) == [str(Path(results[0].location).relative_to(store.root))]


def test_processes_storing_the_same_instances_store_each_once(store, files_below):
    # spawn: a clean interpreter per worker (fork from a threaded pytest is fragile). The bound
    # method pickles as the store plus a method name, importable from the installed package.
    instances = [{"study_uid": "1.2.3", "series_uid": "1.2.3.4", "sop_uid": f"1.2.3.4.{n}"} for n in range(6)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pending = [(uids, pool.apply_async(store.put, (list(chunks_of(CONTENT)),), uids))
                   for uids in instances for _copy in range(2)]  # both workers take one instance
        results = [(uids, job.get(timeout=120)) for uids, job in pending]

    for uids in instances:
        mine = [result for given, result in results if given == uids]
        assert sum(not result.existed for result in mine) == 1
        assert {result.digest for result in mine} == {DIGEST}
        assert Path(store.locate(**uids)).read_bytes() == CONTENT
    assert len(files_below(store.root)) == len(instances)


def test_losing_the_race_to_an_identical_writer_is_not_an_error(monkeypatch, store, uids, temporaries):
    # Deterministic version of the race: the rival finishes between our check and our link.
    real_link = os.link

    def rival_wins_first(source, target, *args, **kwargs):
        monkeypatch.setattr(os, "link", real_link)
        store.put(CONTENT, **uids)
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", rival_wins_first)
    result = store.put(chunks_of(CONTENT), **uids)
    assert result.existed and result.digest == DIGEST
    assert Path(result.location).read_bytes() == CONTENT
    assert temporaries(store.root) == []


def test_losing_the_race_to_a_different_writer_is_a_conflict(monkeypatch, store, uids, temporaries):
    real_link = os.link

    def rival_wins_first(source, target, *args, **kwargs):
        monkeypatch.setattr(os, "link", real_link)
        store.put(b"the rival's bytes", **uids)
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", rival_wins_first)
    with pytest.raises(InstanceConflict):
        store.put(CONTENT, **uids)
    assert Path(store.locate(**uids)).read_bytes() == b"the rival's bytes"
    assert temporaries(store.root) == []


def test_a_delete_racing_a_put_into_the_same_series(store, uids):
    # delete prunes empty folders while puts create them: every put must still land.
    stop = threading.Event()
    errors = []

    def delete_repeatedly() -> None:
        while not stop.is_set():
            for path in list(store.root.rglob("*.dcm")):
                try:
                    store.delete(str(path))
                except Exception as err:
                    errors.append(err)

    deleter = threading.Thread(target=delete_repeatedly)
    deleter.start()
    try:
        for number in range(200):
            store.put(b"x" * 100, **{**uids, "sop_uid": f"1.2.{number}"})
    finally:
        stop.set()
        deleter.join()
    assert errors == []
