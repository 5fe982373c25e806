"""Faults while receiving: hand-written PDUs (``RawPeer``) cut off or aborted in the middle of a
C-STORE, real disk failures, bad peers crowding a real sender, and a slow event listener. After
each, the store holds no partial or temporary file, the index no row for the lost instance, and
the listener still answers C-ECHO and C-STORE."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from gantry import hookimpl
from gantry.testing.datasets import make_dataset, write_dataset
from gantry_dimse.settings import DimseSettings, Timeouts
from gantry_dimse.testing import A_ABORT, VERIFICATION, RawPeer

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SETTINGS = DimseSettings(timeouts=Timeouts(connect=10, acse=0.5, dimse=30, network=1), max_associations=30)


def stored_files(store: Path) -> list[Path]:
    return sorted(path for path in store.rglob("*") if path.is_file()) if store.exists() else []


def indexed(site) -> list[str]:
    backend = site.kernel.open_storage(site.database)
    try:
        return sorted(row["SOPInstanceUID"] for row in backend.query("instance"))
    finally:
        backend.close()


def big_dataset(instance: int = 1):
    """A CT dataset of about 512 KB: dozens of P-DATA-TF fragments at 16 KB."""
    dataset = make_dataset(instance=instance, rows=512, columns=512)
    assert len(dataset.PixelData) == 512 * 512 * 2
    return dataset


def send(kernel, port: int, *paths) -> list:
    with kernel.open_transport(f"dicom://OURAE@127.0.0.1:{port}?retries=0") as peer:
        return list(peer.store(list(paths)))


def still_serving(site, ours, tmp_path: Path, instance: int = 99) -> str:
    """The listener answers C-ECHO and stores a new instance; its SOP Instance UID."""
    dataset = make_dataset(instance=instance, rows=8, columns=8)
    path = write_dataset(dataset, tmp_path / f"after-{instance}.dcm")
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}?retries=0") as peer:
        assert peer.echo().ok
        (result,) = peer.store([path])
    assert result.ok, result
    return str(dataset.SOPInstanceUID)


def no_association_left(ours, wait_for) -> bool:
    return wait_for(lambda: not any(assoc.is_alive() for assoc in ours._associations), 10)


# -- hand-written C-STOREs cut short -----------------------------------------------------------


def test_a_raw_c_store_is_stored(site, our_listener):
    """The hand-written PDUs are a valid C-STORE: what the tests below cut short would be stored."""
    ours = our_listener(site.kernel, settings=SETTINGS)
    dataset = big_dataset()
    with RawPeer(ours.port) as peer:
        assert peer.associate("OURAE", [CT_IMAGE_STORAGE])
        pdus = peer.store_pdus(dataset)
        assert len(pdus) > 20
        peer.send(*pdus)
        assert peer.read_status() == 0x0000
    ours.stop()
    assert indexed(site) == [str(dataset.SOPInstanceUID)] and len(stored_files(site.store)) == 1


def test_an_a_abort_between_fragments_leaves_nothing(site, our_listener, tmp_path, wait_for):
    ours = our_listener(site.kernel, settings=SETTINGS)
    dataset = big_dataset()
    with RawPeer(ours.port) as peer:
        assert peer.associate("OURAE", [CT_IMAGE_STORAGE])
        pdus = peer.store_pdus(dataset)
        peer.send(*pdus[:len(pdus) // 2], A_ABORT)  # the command and half the dataset
        assert peer.closed_by_listener()
    assert no_association_left(ours, wait_for)
    assert stored_files(site.store) == []
    after = still_serving(site, ours, tmp_path)
    ours.stop()
    assert indexed(site) == [after]  # no row for the aborted instance
    assert len(stored_files(site.store)) == 1


def test_a_truncated_p_data_then_close_leaves_nothing(site, our_listener, tmp_path, wait_for):
    ours = our_listener(site.kernel, settings=SETTINGS)
    dataset = big_dataset()
    with RawPeer(ours.port) as peer:
        assert peer.associate("OURAE", [CT_IMAGE_STORAGE])
        pdus = peer.store_pdus(dataset)
        last = pdus[-1]
        peer.send(*pdus[:-1], last[:len(last) // 2])  # the final fragment cut in the middle
    assert no_association_left(ours, wait_for)
    assert stored_files(site.store) == []
    after = still_serving(site, ours, tmp_path)
    ours.stop()
    assert indexed(site) == [after]


def test_a_sender_that_stalls_mid_dataset_is_dropped_and_leaves_nothing(site, our_listener, tmp_path, wait_for):
    ours = our_listener(site.kernel, settings=SETTINGS)
    with RawPeer(ours.port) as peer:
        assert peer.associate("OURAE", [CT_IMAGE_STORAGE])
        pdus = peer.store_pdus(big_dataset())
        peer.send(*pdus[:5], pdus[5][:100])  # and then silence, the connection kept open
        assert peer.closed_by_listener()  # network_timeout
    assert no_association_left(ours, wait_for)
    after = still_serving(site, ours, tmp_path)
    ours.stop()
    assert indexed(site) == [after] and len(stored_files(site.store)) == 1


def test_many_bad_peers_at_once_while_a_real_sender_stores(site, our_listener, ct_folder, wait_for):
    ours = our_listener(site.kernel, settings=SETTINGS)
    failures: list[str] = []
    big = big_dataset(instance=50)

    def misbehave(kind: str) -> None:
        try:
            with RawPeer(ours.port) as peer:
                if kind == "garbage":
                    peer.send(os.urandom(64))
                elif kind == "absurd":
                    peer.send(struct.pack(">BBI", 0x01, 0, 0xFFFFFFF0))
                elif kind != "silent":
                    assert peer.associate("OURAE", [CT_IMAGE_STORAGE, VERIFICATION])
                    pdus = peer.store_pdus(big)
                    if kind == "abort":
                        peer.send(*pdus[:10], A_ABORT)
                    elif kind == "truncated":
                        peer.send(*pdus[:10], pdus[10][:50])
                        peer.close()
                        return
                    else:  # stalled
                        peer.send(*pdus[:10], pdus[10][:50])
                if not peer.closed_by_listener():
                    failures.append(f"{kind}: not dropped")
        except Exception as err:
            failures.append(f"{kind}: {type(err).__name__}: {err}")

    kinds = ["garbage", "absurd", "silent", "abort", "truncated", "stalled"] * 3
    threads = [threading.Thread(target=misbehave, args=(kind,)) for kind in kinds]
    for thread in threads:
        thread.start()
    try:
        results = send(site.kernel, ours.port, ct_folder.path)
    finally:
        for thread in threads:
            thread.join(60)
    assert all(result.ok for result in results) and len(results) == len(ct_folder.files), results
    assert failures == []
    assert no_association_left(ours, wait_for)
    ours.stop()
    assert indexed(site) == sorted(ct_folder.files)  # the big instance was never complete
    assert len(stored_files(site.store)) == len(ct_folder.files)


# -- real disk failures (tests run as root: permissions do not stop writes) ---------------------


def storescu(port: int, *paths: Path) -> str:
    from gantry_dimse.testing import DCMTK_ENV, dcmtk

    finished = subprocess.run([dcmtk("storescu"), "-v", "-aet", "MODALITY", "-aec", "OURAE", "+sd", "+r",
                               "127.0.0.1", str(port), *map(str, paths)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
    return finished.stdout + finished.stderr


def test_a_store_folder_replaced_by_a_file_answers_out_of_resources(site, our_listener, ct_folder, tmp_path):
    ours = our_listener(site.kernel, settings=SETTINGS)
    first = still_serving(site, ours, tmp_path, instance=90)  # the store works ...
    shutil.rmtree(site.store)
    site.store.write_bytes(b"not a folder")  # ... until its folder is gone and a file is in its place
    with RawPeer(ours.port) as peer:
        assert peer.associate("OURAE", [CT_IMAGE_STORAGE])
        peer.send(*peer.store_pdus(big_dataset()))
        status = peer.read_status()
    assert status is not None and status & 0xFF00 == 0xA700, hex(status or 0)
    output = storescu(ours.port, ct_folder.path)
    assert "Refused: OutOfResources" in output and "Success" not in output, output
    ours.stop()
    assert indexed(site) == [first]  # nothing after the failure
    assert site.store.read_bytes() == b"not a folder"


@pytest.fixture
def tiny_filesystem(tmp_path: Path):
    """A 256 KB tmpfs (skipped where mounting is not allowed); unmounted afterwards."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_answers_out_of_resources_and_leaves_no_temporary_file(make_kernel, our_listener,
                                                                           tiny_filesystem, tmp_path):
    from types import SimpleNamespace

    database, store = f"sqlite:///{tmp_path / 'index.db'}", tiny_filesystem / "store"
    kernel = make_kernel(config={"storage": {"database": database, "store": str(store)}}, discover=True)
    site = SimpleNamespace(kernel=kernel, database=database, store=store)
    ours = our_listener(kernel, settings=SETTINGS)
    small = still_serving(site, ours, tmp_path, instance=1)  # 8 x 8 pixels: fits
    with RawPeer(ours.port) as peer:
        assert peer.associate("OURAE", [CT_IMAGE_STORAGE])
        peer.send(*peer.store_pdus(big_dataset(instance=2)))  # 512 KB on a 256 KB disk
        status = peer.read_status()
        assert status is not None and status & 0xFF00 == 0xA700, hex(status or 0)
        # The association survives the failure: the next C-STORE on it is answered too.
        peer.send(*peer.store_pdus(big_dataset(instance=3), message_id=2))
        assert (peer.read_status() or 0) & 0xFF00 == 0xA700
    ours.stop()
    assert indexed(site) == [small]
    assert len(stored_files(store)) == 1  # the small one; no temporary file of the big ones


# -- a slow event listener does not hold up the association -------------------------------------


class SlowListener:
    """A ``gantry_instance_stored`` listener that blocks until the test lets it go."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.seen: list[str] = []

    @hookimpl
    def gantry_instance_stored(self, instance) -> None:
        self.entered.set()
        self.release.wait(60)
        self.seen.append(instance.attributes["SOPInstanceUID"])


def test_a_slow_instance_stored_listener_does_not_delay_the_responses(make_kernel, our_listener, tmp_path,
                                                                      ct_folder):
    from types import SimpleNamespace

    slow = SlowListener()
    database, store = f"sqlite:///{tmp_path / 'index.db'}", tmp_path / "store"
    kernel = make_kernel({"slow": slow}, config={"storage": {"database": database, "store": str(store)}},
                         discover=True)
    ours = our_listener(kernel, settings=SETTINGS)
    try:
        results = send(kernel, ours.port, ct_folder.path)
        # Every response came while the listener was still blocked in the first event.
        assert slow.entered.is_set() and not slow.release.is_set() and slow.seen == []
        assert all(result.ok for result in results) and len(results) == len(ct_folder.files)
        # Durable first: stored and indexed before any listener ran to its end.
        assert indexed(SimpleNamespace(kernel=kernel, database=database)) == sorted(ct_folder.files)
        assert ours.notifier.pending() == len(ct_folder.files) - 1
    finally:
        slow.release.set()
    ours.stop()  # drains what is queued
    assert sorted(slow.seen) == sorted(ct_folder.files)
