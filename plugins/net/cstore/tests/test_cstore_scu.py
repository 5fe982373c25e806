"""Our C-STORE SCU sending to dcmtk's storescp."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from gantry import TransportError
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS


def received(folder: Path) -> dict[str, pydicom.Dataset]:
    datasets = [pydicom.dcmread(path) for path in folder.iterdir()]
    return {str(dataset.SOPInstanceUID): dataset for dataset in datasets}


def originals(folder: Path) -> dict[str, pydicom.Dataset]:
    datasets = [pydicom.dcmread(path) for path in folder.rglob("*.dcm")]
    return {str(dataset.SOPInstanceUID): dataset for dataset in datasets}


def test_a_folder_of_mixed_syntaxes_arrives_as_it_is(installed_kernel, storescp, ct_folder):
    peer = storescp("+xa")  # accepts every syntax it knows, RLE included
    seen: list[tuple[int, int]] = []
    with installed_kernel.open_transport(peer.url) as transport:
        results = list(transport.store([ct_folder.path], progress=lambda done, total: seen.append((done, total))))
        opened = transport.pool.opened
    assert [result.ok for result in results] == [True] * 6, results
    assert all(result.status == 0 and result.reason == "" for result in results)
    assert {r.sop_instance_uid: r.transfer_syntax_uid for r in results} == ct_folder.files
    assert opened == 1  # one association for the batch
    assert seen[-1] == (6, 6) and len(seen) == 6
    arrived, sent = received(peer.out), originals(ct_folder.path)
    assert set(arrived) == set(ct_folder.files)
    for uid, dataset in arrived.items():
        assert dataset.file_meta.TransferSyntaxUID == ct_folder.files[uid]
        assert dataset.PixelData == sent[uid].PixelData  # RLE fragments too, byte for byte


def test_a_peer_refusing_rle_gets_a_lossless_transcode_and_the_result_says_so(installed_kernel, storescp,
                                                                              ct_folder):
    peer = storescp()  # storescp's default: uncompressed syntaxes only
    with installed_kernel.open_transport(peer.url) as transport:
        results = list(transport.store([ct_folder.path]))
    assert all(result.ok for result in results), results
    for result in results:
        if ct_folder.files[result.sop_instance_uid] == RLE_LOSSLESS:
            assert result.reason.startswith("transcoded from rle to explicit-little")
            assert result.transfer_syntax_uid == EXPLICIT_VR_LITTLE_ENDIAN
        else:
            assert result.reason == ""
    arrived = received(peer.out)
    assert set(arrived) == set(ct_folder.files)
    for uid, dataset in arrived.items():
        assert dataset.PixelData == ct_folder.native_pixels[uid]


def test_a_non_dicom_file_is_reported_and_the_rest_go(installed_kernel, storescp, ct_folder):
    clutter = ct_folder.path / "nested" / "notes.txt"
    clutter.write_text("not an image")
    peer = storescp("+xa")
    with installed_kernel.open_transport(peer.url) as transport:
        results = list(transport.store([ct_folder.path, ct_folder.path / "missing.dcm"]))
    failures = [result for result in results if not result.ok]
    assert sorted((Path(r.source).name, r.reason.split(":")[0]) for r in failures) == [
        ("missing.dcm", "cannot read"), ("notes.txt", "not a DICOM file")]
    assert sum(result.ok for result in results) == 6
    assert len(received(peer.out)) == 6


def test_fail_fast_stops_at_the_first_failure(installed_kernel, storescp, ct_folder):
    (ct_folder.path / "a-first.txt").write_text("sorted before every image")
    peer = storescp("+xa")
    with installed_kernel.open_transport(peer.url) as transport:
        results = list(transport.store([ct_folder.path], continue_on_error=False))
    assert len(results) == 1 and not results[0].ok and results[0].source.endswith("a-first.txt")
    assert list(peer.out.iterdir()) == []


def test_an_unreachable_peer_is_a_transport_error(installed_kernel, ct_folder, free_port):
    url = f"dicom://NOBODY@127.0.0.1:{free_port()}?retries=0&timeout=2"
    with installed_kernel.open_transport(url) as transport, pytest.raises(TransportError):
        list(transport.store([ct_folder.path]))


def test_batches_keep_within_128_contexts_and_keep_the_order():
    from gantry.transport import StoreResult
    from gantry_cstore.batches import MAX_CONTEXTS, Outgoing, batched

    entries = []
    for number in range(100):  # 100 SOP classes x (own syntax + 2 fallbacks) = 300 contexts
        entries.append(Outgoing(path=f"f{number}", sop_class_uid=f"1.2.3.{number}", sop_instance_uid=f"9.{number}",
                                transfer_syntax_uid=RLE_LOSSLESS))
        if number == 50:
            entries.append(StoreResult(source="clutter", reason="not a DICOM file"))
    batches = list(batched(entries))
    assert [len(batch.contexts()) for batch in batches] == [126, 126, 48]
    assert all(batch.context_count <= MAX_CONTEXTS for batch in batches)
    assert [entry for batch in batches for entry in batch.entries] == entries
    assert batches[0].contexts()[0] == ("1.2.3.0", (RLE_LOSSLESS,))  # the file's own syntax first


def test_several_associations_share_the_files_out_and_results_keep_their_order(installed_kernel, storescp,
                                                                             tmp_path):
    from gantry.testing.datasets import make_dataset, write_dataset

    folder = tmp_path / "many"
    folder.mkdir()
    paths = [write_dataset(make_dataset(instance=number + 1, rows=8, columns=8), folder / f"{number:02d}.dcm")
             for number in range(20)]
    (folder / "10-not-dicom.dcm").write_bytes(b"not DICOM at all")
    peer = storescp("--fork")  # a child process per association: several at once
    seen: list[int] = []
    with installed_kernel.open_transport(peer.url) as transport:
        results = list(transport.store([str(folder)], associations=4, progress=lambda done, total: seen.append(done)))
        opened = transport.pool.opened
    assert [result.source for result in results] == sorted(map(str, [*paths, folder / "10-not-dicom.dcm"]))
    assert [result.ok for result in results].count(True) == 20
    assert [result.reason for result in results if not result.ok] == ["not a DICOM file"]
    assert opened == 4
    assert sorted(seen) == list(range(1, 22))
    assert set(received(peer.out)) == {result.sop_instance_uid for result in results if result.ok}


def test_associations_must_be_at_least_one(installed_kernel, storescp, ct_folder):
    peer = storescp()
    with installed_kernel.open_transport(peer.url) as transport, pytest.raises(ValueError, match="at least 1"):
        list(transport.store([ct_folder.path], associations=0))


def test_a_node_serving_one_association_at_a_time_gets_the_next_after_the_idle_one_is_released(
        installed_kernel, storescp, tmp_path):
    from gantry.testing.datasets import make_dataset, write_dataset

    ct, mr = tmp_path / "ct", tmp_path / "mr"
    ct.mkdir(), mr.mkdir()
    write_dataset(make_dataset(instance=1, rows=8, columns=8), ct / "1.dcm")
    write_dataset(make_dataset(instance=2, rows=8, columns=8, modality="MR"), mr / "2.dcm")
    peer = storescp()  # no --fork: one association at a time
    # A short ACSE timeout: were the CT association still idling in the pool, storescp would not
    # answer the MR one in time.
    with installed_kernel.open_transport(peer.url + "&acse_timeout=3&retries=0") as transport:
        first = list(transport.store([str(ct)]))
        second = list(transport.store([str(mr)]))
        opened = transport.pool.opened
    assert [result.ok for result in first + second] == [True, True], [r.reason for r in first + second]
    assert opened == 2
