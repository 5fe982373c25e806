"""dcmtk's storescu sending to our Listener, which stores into a files store and a SQLite index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pydicom
import pytest

from gantry import StorageError

DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}


def dcmtk(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        pytest.fail("dcmtk is not installed: apt-get install -y dcmtk")
    return program


def storescu(port: int, *paths: Path, calling: str = "MODALITY", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([dcmtk("storescu"), "-v", "-aet", calling, "-aec", "OURAE", "+sd", "+r", "-R", "-xr",  # -xr: RLE files go as RLE
                           "127.0.0.1", str(port), *map(str, paths)],
                          capture_output=True, text=True, timeout=timeout, env=DCMTK_ENV)


def echoscu(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([dcmtk("echoscu"), "-aet", "MODALITY", "-aec", "OURAE", "127.0.0.1", str(port)],
                          capture_output=True, text=True, timeout=60, env=DCMTK_ENV)


def stored_files(store: Path) -> list[Path]:
    return sorted(path for path in store.rglob("*") if path.is_file()) if store.exists() else []


def test_received_instances_land_in_the_store_and_the_index(site, our_listener, ct_folder):
    ours = our_listener(site.kernel, allow=("MODALITY",))
    assert {"C-ECHO", "C-STORE"} <= set(ours.services)  # other installed SCPs (C-FIND) may answer too
    sent = storescu(ours.port, ct_folder.path)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    ours.stop()
    files = stored_files(site.store)
    assert len(files) == 6
    originals = {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, ct_folder.path.rglob("*.dcm"))}
    for path in files:
        dataset = pydicom.dcmread(path)
        uid = str(dataset.SOPInstanceUID)
        if ct_folder.files[uid] != "1.2.840.10008.1.2":  # storescu sends implicit files as explicit
            assert dataset.file_meta.TransferSyntaxUID == ct_folder.files[uid]
        assert dataset.PixelData == originals[uid].PixelData  # the bytes as sent, never re-encoded
    backend = site.kernel.open_storage(site.database)
    try:
        rows = backend.query("instance")
        assert sorted(row["SOPInstanceUID"] for row in rows) == sorted(ct_folder.files)
        assert "1.2.840.10008.1.2.5" in {row["transfer_syntax_uid"] for row in rows}  # RLE kept as RLE
        assert all(row["Modality"] == "CT" and row["Rows"] == 32 and Path(row["location"]).is_file() for row in rows)
        assert backend.count("study") == 1 and backend.count("series") == 1
        audit = [row.event for row in backend.audit_rows()]
        assert sorted(event.sop_instance_uid for event in audit) == sorted(ct_folder.files)
        assert {(event.actor, event.action) for event in audit} == {("dicom:MODALITY", "received")}
        assert backend.verify_audit().ok
    finally:
        backend.close()


def test_a_calling_ae_not_in_the_allow_list_is_rejected(site, our_listener, ct_folder):
    ours = our_listener(site.kernel, allow=("FRIEND",))
    refused = storescu(ours.port, ct_folder.path, calling="STRANGER")
    assert refused.returncode != 0 and "Rejected" in refused.stdout + refused.stderr
    assert stored_files(site.store) == []


def test_a_failed_write_answers_a_failure_status_and_indexes_nothing(site, our_listener, ct_folder, monkeypatch):
    from gantry_files.store import FileStore

    def full_disk(self, *args, **kwargs):
        raise StorageError("No space left on device")

    monkeypatch.setattr(FileStore, "put", full_disk)
    ours = our_listener(site.kernel)
    sent = storescu(ours.port, ct_folder.path)
    assert "Refused: OutOfResources" in sent.stdout + sent.stderr, sent.stdout + sent.stderr
    assert "Success" not in sent.stdout + sent.stderr
    ours.stop()
    backend = site.kernel.open_storage(site.database)
    try:
        assert backend.count("instance") == 0 and backend.audit_rows() == []
    finally:
        backend.close()


def test_a_failed_index_removes_the_file_it_wrote(site, our_listener, ct_folder, monkeypatch):
    from gantry_cstore.scp import StoreScp

    original = StoreScp._keep

    def broken_index(self, *args):
        self.backend.index = lambda records: (_ for _ in ()).throw(StorageError("database is locked"))
        return original(self, *args)

    monkeypatch.setattr(StoreScp, "_keep", broken_index)
    ours = our_listener(site.kernel)
    sent = storescu(ours.port, ct_folder.path)
    assert "Refused: OutOfResources" in sent.stdout + sent.stderr
    assert stored_files(site.store) == []


def test_an_association_aborted_mid_transfer_leaves_nothing(site, our_listener, tmp_path, wait_for):
    from gantry.testing.datasets import make_dataset, write_dataset

    dataset = make_dataset(rows=16, columns=16)
    dataset.Rows = dataset.Columns = 2048
    dataset.NumberOfFrames = 16  # 128 MB: takes a while to go through
    dataset.PixelData = os.urandom(2048 * 2048 * 2 * 16)
    big = Path(write_dataset(dataset, tmp_path / "big.dcm"))
    ours = our_listener(site.kernel)
    process = subprocess.Popen([dcmtk("storescu"), "-aet", "MODALITY", "-aec", "OURAE", "127.0.0.1",
                                str(ours.port), str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=DCMTK_ENV)
    try:
        assert wait_for(lambda: ours.open_associations(), 20)
        process.send_signal(signal.SIGKILL)  # mid-transfer: no A-ABORT, the connection just drops
    finally:
        process.wait(10)
    assert wait_for(lambda: not ours.open_associations(), 10)
    assert echoscu(ours.port).returncode == 0  # still serving
    assert stored_files(site.store) == []
    ours.stop()
    backend = site.kernel.open_storage(site.database)
    try:
        assert backend.count("instance") == 0
    finally:
        backend.close()


def test_a_private_sop_class_is_accepted_when_configured(make_kernel, tmp_path, our_listener):
    from gantry.testing.datasets import make_dataset, write_dataset

    private = "1.2.826.0.1.3680043.10.1432.77.1"
    database, store = f"sqlite:///{tmp_path / 'index.db'}", tmp_path / "store"
    kernel = make_kernel(config={"storage": {"database": database, "store": str(store)},
                                 "cstore": {"extra_sop_classes": [private]}}, discover=True)
    dataset = make_dataset()
    dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = private
    path = write_dataset(dataset, tmp_path / "private.dcm")
    ours = our_listener(kernel)
    with kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as transport:
        (result,) = transport.store([path])
    assert result.ok, result
    assert len(stored_files(store)) == 1


@pytest.mark.parametrize("syntaxes", [["1.2.840.10008.1.2"]])
def test_configured_transfer_syntaxes_limit_what_is_accepted(make_kernel, tmp_path, our_listener, ct_folder,
                                                             syntaxes):
    kernel = make_kernel(config={"storage": {"database": f"sqlite:///{tmp_path / 'i.db'}",
                                             "store": str(tmp_path / "s")},
                                 "cstore": {"transfer_syntaxes": syntaxes}}, discover=True)
    ours = our_listener(kernel)
    with kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as transport:
        results = list(transport.store([ct_folder.path]))
    assert all(r.ok and r.transfer_syntax_uid == syntaxes[0] for r in results), results
    assert sum(r.reason.startswith("transcoded") for r in results) == 4  # explicit and RLE files
