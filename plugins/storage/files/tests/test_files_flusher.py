"""FolderFlusher: concurrent writers in one folder share its flushes, and none returns before a
flush that started after it asked."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gantry_files import atomic


class RecordingFlush:
    """The real fsync_directory, recording when each flush starts and ends, and holding the
    first one open until released so that other writers pile up behind it."""

    def __init__(self, fail_first: bool = False) -> None:
        self.events: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.first_started = threading.Event()
        self.release_first = threading.Event()
        self.fail_first = fail_first
        self.count = 0
        self.real_flush = atomic.fsync_directory

    def __call__(self, folder: Path) -> None:
        with self.lock:
            self.count += 1
            number = self.count
            self.events.append(("start", number))
        if number == 1:
            self.first_started.set()
            assert self.release_first.wait(10)
            if self.fail_first:
                with self.lock:
                    self.events.append(("fail", number))
                raise OSError(5, "Input/output error")
        self.real_flush(folder)
        with self.lock:
            self.events.append(("end", number))


def run_writers(flusher: atomic.FolderFlusher, folder: Path, count: int) -> tuple[list[threading.Thread], list]:
    outcomes: list = []

    def write() -> None:
        try:
            flusher.flush(folder)
            outcomes.append("ok")
        except OSError as err:
            outcomes.append(err)

    threads = [threading.Thread(target=write) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def test_writers_waiting_behind_a_flush_share_the_next_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = RecordingFlush()
    monkeypatch.setattr(atomic, "fsync_directory", recording)
    flusher = atomic.FolderFlusher()
    first, first_outcome = run_writers(flusher, tmp_path, 1)
    assert recording.first_started.wait(10)
    # Eight writers arrive while the first flush runs: it started before their renames, so it
    # cannot cover them; one more flush, started after all of them asked, covers them all.
    later, outcomes = run_writers(flusher, tmp_path, 8)
    assert _wait_for_waiters(flusher, tmp_path, 9)
    recording.release_first.set()
    for thread in first + later:
        thread.join(10)
    assert first_outcome == ["ok"] and outcomes == ["ok"] * 8
    assert recording.count == 2, recording.events
    assert recording.events.index(("end", 1)) < recording.events.index(("start", 2))


def test_after_a_failed_flush_the_waiting_writers_flush_for_themselves(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    recording = RecordingFlush(fail_first=True)
    monkeypatch.setattr(atomic, "fsync_directory", recording)
    flusher = atomic.FolderFlusher()
    first, first_outcome = run_writers(flusher, tmp_path, 1)
    assert recording.first_started.wait(10)
    later, outcomes = run_writers(flusher, tmp_path, 4)
    assert _wait_for_waiters(flusher, tmp_path, 5)
    recording.release_first.set()
    for thread in first + later:
        thread.join(10)
    assert len(first_outcome) == 1 and isinstance(first_outcome[0], OSError)  # the failure is its own
    assert outcomes == ["ok"] * 4  # the others were not told "flushed" by a flush that failed
    assert ("end", 2) in recording.events


def test_a_lone_writer_flushes_every_time_and_nothing_is_kept(tmp_path: Path) -> None:
    flusher = atomic.FolderFlusher()
    for _ in range(3):
        flusher.flush(tmp_path)
    assert flusher._folders == {}


def _wait_for_waiters(flusher: atomic.FolderFlusher, folder: Path, users: int) -> bool:
    from gantry.testing.network import wait_until

    def arrived() -> bool:
        with flusher._lock:
            state = flusher._folders.get(folder)
            return state is not None and state.users == users and state.tickets == users

    return wait_until(arrived, 10)
