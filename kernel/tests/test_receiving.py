"""gantry.receiving.keep_received with the real SQLite backend and file store."""

from __future__ import annotations

import pytest

from gantry import InstanceConflict
from gantry.receiving import IndexFailed, keep_received
from gantry.storage import SCAN_KEYWORDS
from gantry.testing.datasets import make_dataset, write_dataset


@pytest.fixture
def site(tmp_path, installed_kernel):
    backend = installed_kernel.open_storage(f"sqlite:///{tmp_path / 'index.db'}")
    store = installed_kernel.open_instance_store(str(tmp_path / "store"))
    yield installed_kernel, backend, store
    backend.close()


def received(tmp_path, kernel, **options):
    path = write_dataset(make_dataset(**options), tmp_path / f"in-{options.get('instance', 1)}.dcm")
    return path, kernel.scan(path, SCAN_KEYWORDS)


def test_a_kept_instance_is_stored_indexed_and_audited(site, tmp_path):
    kernel, backend, store = site
    path, attributes = received(tmp_path, kernel)
    data = open(path, "rb").read()
    record, stored = keep_received(backend, store, data, attributes, actor="dicom:MODALITY", detail={"peer": "x"})
    assert open(stored.location, "rb").read() == data
    assert [row["SOPInstanceUID"] for row in backend.query("instance", {})] == [attributes["SOPInstanceUID"]]
    [audit] = [row.event for row in backend.audit_rows()]
    assert (audit.actor, audit.action, audit.detail["peer"], audit.detail["already_stored"]) == (
        "dicom:MODALITY", "received", "x", False)
    again, _ = keep_received(backend, store, path, attributes, actor="dicomweb:client")  # from a file too
    assert again.digest == record.digest and backend.count("instance") == 1


def test_an_instance_in_pieces_is_kept_as_one_file(site, tmp_path):
    kernel, backend, store = site
    path, _ = received(tmp_path, kernel)
    data = open(path, "rb").read()
    view = memoryview(data)
    pieces = (data[:200], view[200:1000], view[1000:])  # as a network receiver has them
    attributes = kernel.scan(pieces, SCAN_KEYWORDS)
    record, stored = keep_received(backend, store, pieces, attributes, actor="dicom:MODALITY")
    assert open(stored.location, "rb").read() == data
    assert stored.size == len(data) and record.digest == stored.digest
    with pytest.raises(InstanceConflict):  # other bytes in pieces: refused after the write, nothing kept
        keep_received(backend, store, (data[:200], data[200:] + b"\0\0"), attributes, actor="a")
    assert open(stored.location, "rb").read() == data and backend.count("instance") == 1


def test_other_bytes_under_a_kept_uid_conflict_and_change_nothing(site, tmp_path):
    kernel, backend, store = site
    path, attributes = received(tmp_path, kernel)
    keep_received(backend, store, path, attributes, actor="a")
    with pytest.raises(InstanceConflict):
        keep_received(backend, store, open(path, "rb").read() + b"\0\0", attributes, actor="a")
    assert len(backend.audit_rows()) == 1


def test_an_index_that_fails_leaves_no_file(site, tmp_path):
    kernel, backend, store = site
    path, attributes = received(tmp_path, kernel)
    backend.close()  # every index call now fails
    with pytest.raises(IndexFailed, match="could not be indexed"):
        keep_received(backend, store, path, attributes, actor="a")
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def test_index_attributes_read_the_same_with_or_without_a_kernel_whole_or_in_pieces(site, tmp_path):
    from gantry.receiving import index_attributes

    kernel, _backend, _store = site
    path, expected = received(tmp_path, kernel)
    data = open(path, "rb").read()
    for source in (str(path), data, (data[:300], memoryview(data)[300:])):
        assert index_attributes(source, kernel) == expected
        assert index_attributes(source)["SOPInstanceUID"] == expected["SOPInstanceUID"]  # pydicom's way


def test_index_attributes_refuse_unreadable_data_and_missing_uids(site, tmp_path):
    from gantry.receiving import index_attributes

    kernel, _backend, _store = site
    with pytest.raises(ValueError, match="unreadable dataset"):
        index_attributes(b"\x00" * 400, kernel)
    dataset = make_dataset()
    del dataset.SeriesInstanceUID
    path = write_dataset(dataset, tmp_path / "no-series.dcm")
    with pytest.raises(ValueError, match="missing SeriesInstanceUID"):
        index_attributes(str(path), kernel)
