"""C-MOVE whose matches need more than the 128 presentation contexts of one association: our SCP
sends them on several sub-associations in sequence, with the right sub-operation counts; and an
instance in a syntax the destination refuses goes transcoded losslessly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

from gantry.session import Session
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.index import IndexedSite, indexed_site
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS

from gantry_cmove.models import PENDING
from gantry_cmove.subassociations import plan
from gantry_dimse.testing import dcmtk_server, free_port, wait_until

CLASSES = 130
PRIVATE_CLASS = "1.2.826.0.1.3680043.10.1432.77.{}"  # our own root: private storage classes


@pytest.fixture
def promiscuous_destination(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """dcmtk's storescp as DEST, accepting unknown (private) SOP classes: (port, folder, log)."""
    folder, log_path = tmp_path / "received", tmp_path / "storescp.log"
    folder.mkdir()
    port = free_port()
    with dcmtk_server("storescp", ["-v", "-pm", "-aet", "DEST", "-od", str(folder), str(port)], port, log_path):
        yield port, folder, log_path


@pytest.fixture
def many_classes_site(tmp_path: Path, promiscuous_destination) -> IndexedSite:
    """One study of CLASSES instances, each of its own private SOP class."""
    port = promiscuous_destination[0]
    datasets = []
    for number in range(1, CLASSES + 1):
        dataset = make_dataset(study=3, instance=number, rows=4, columns=4)
        dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID = PRIVATE_CLASS.format(number)
        datasets.append(dataset)
    return indexed_site(tmp_path / "site", datasets,
                        config={"cmove": {"destinations": [{"ae": "DEST", "host": "127.0.0.1", "port": port}]}})


def test_the_plan_splits_contexts_into_groups_of_at_most_128(many_classes_site):
    rows = many_classes_site.query("instance")
    groups, order = plan(many_classes_site.kernel, rows)
    assert len(groups) == 3 and all(len(group) <= 128 for group in groups)  # 2 contexts a class: 64 a group
    assert sorted(row["SOPInstanceUID"] for _group, row in order) == sorted(row["SOPInstanceUID"] for row in rows)
    assert [group for group, _row in order] == sorted(group for group, _row in order)  # one group after another
    for number, group in enumerate(groups):
        classes = {str(context.abstract_syntax) for context in group}
        assert classes == {row["SOPClassUID"] for g, row in order if g == number}


def test_a_move_of_130_sop_classes_uses_three_sub_associations(many_classes_site, our_listener,
                                                              promiscuous_destination):
    port, folder, log_path = promiscuous_destination
    ours = our_listener(many_classes_site.kernel)
    [study] = many_classes_site.study_uids()
    with many_classes_site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        *pending, final = list(peer.retrieve("study", {"StudyInstanceUID": study}, destination="DEST"))
    assert (final.ok, final.status, final.completed, final.failed, final.warning) == (True, 0, CLASSES, 0, 0)
    assert [(result.status, result.remaining, result.completed) for result in pending] == \
        [(PENDING, CLASSES - done, done) for done in range(1, CLASSES + 1)]
    received = {str(pydicom.dcmread(path).SOPClassUID) for path in folder.iterdir()}
    assert received == {PRIVATE_CLASS.format(number) for number in range(1, CLASSES + 1)}
    # Three associations acknowledged and released, one after the other (the fixture's probe
    # connection is "received" but never acknowledged).
    assert wait_until(lambda: log_path.read_text().count("Association Release") == 3)
    assert log_path.read_text().count("Association Acknowledged") == 3


def test_an_instance_the_destination_takes_in_no_syntax_of_its_own_goes_transcoded(tmp_path, our_listener,
                                                                                 promiscuous_destination):
    """storescp takes uncompressed syntaxes only: a stored RLE instance goes as Explicit VR LE."""
    from gantry_transcode.transcode import transcode_file

    port, folder, _log = promiscuous_destination
    site = indexed_site(tmp_path / "site", [make_dataset(study=4, instance=1, rows=16, columns=16)],
                        config={"cmove": {"destinations": [{"ae": "DEST", "host": "127.0.0.1", "port": port}]}})
    rle = make_dataset(study=4, instance=2, rows=16, columns=16)
    plain = write_dataset(rle, tmp_path / "plain.dcm")
    (tmp_path / "rle").mkdir()
    assert transcode_file(site.kernel, plain, tmp_path / "rle" / "rle.dcm", RLE_LOSSLESS).ok
    with Session(site.database, kernel=site.kernel) as session:
        assert not session.ingest([tmp_path / "rle"], workers=1).rejected
    ours = our_listener(site.kernel)
    with site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        *_pending, final = list(peer.retrieve("study", {"StudyInstanceUID": site.study_uids()[0]}, destination="DEST"))
    assert (final.ok, final.completed, final.failed) == (True, 2, 0)
    received = {str(ds.SOPInstanceUID): ds for ds in (pydicom.dcmread(path) for path in folder.iterdir())}
    got = received[str(rle.SOPInstanceUID)]
    assert got.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
    assert np.array_equal(got.pixel_array, rle.pixel_array)
