"""Compressed instances over C-GET: our SCU offers the compressed syntaxes our codecs decode and
keeps what arrives byte for byte; our SCP sends each instance in its stored syntax when the
requestor took it, and transcodes losslessly otherwise (dcmtk's getscu as the requestor)."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pytest

from gantry.session import Session
from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.index import IndexedSite, indexed_site
from gantry.uids import EXPLICIT_VR_LITTLE_ENDIAN, JPEG_LS_LOSSLESS, NATIVE, RLE_LOSSLESS, SHORT_NAMES

from gantry_cget.models import COMMON_IMAGE_CLASSES, MAX_CONTEXTS, NATIVE_SYNTAXES, offered_contexts
from gantry_dimse.testing import DCMTK_ENV, dcmtk

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def compressed_site(tmp_path: Path) -> IndexedSite:
    """One CT study: an Explicit VR LE, an RLE and a JPEG-LS lossless instance, all indexed."""
    from gantry_transcode.transcode import transcode_file

    site = indexed_site(tmp_path, [make_dataset(study=5, instance=1, rows=32, columns=32)])
    folder = tmp_path / "compressed"
    folder.mkdir()
    for number, syntax in ((2, RLE_LOSSLESS), (3, JPEG_LS_LOSSLESS)):
        plain = write_dataset(make_dataset(study=5, instance=number, rows=32, columns=32), tmp_path / f"{number}.dcm")
        outcome = transcode_file(site.kernel, plain, folder / f"{number}.dcm", syntax)
        assert outcome.ok, outcome.reason
    with Session(site.database, kernel=site.kernel) as session:
        assert not session.ingest([folder], workers=1).rejected
    return site


def stored(site: IndexedSite) -> dict[str, pydicom.Dataset]:
    return {row["SOPInstanceUID"]: pydicom.dcmread(row["location"]) for row in site.query("instance")}


def test_the_offer_fits_one_association_and_favours_common_classes():
    every_compressed = [uid for uid in SHORT_NAMES.values() if uid not in NATIVE]
    contexts = offered_contexts(every_compressed)
    assert len(contexts) == MAX_CONTEXTS - 1  # and the GET SOP class makes 128
    assert len(set(contexts)) == len(contexts)
    native = [uid for uid, syntaxes in contexts if syntaxes == NATIVE_SYNTAXES]
    assert set(COMMON_IMAGE_CLASSES) <= set(native) and len(native) > 80
    compressed = Counter(uid for uid, syntaxes in contexts if syntaxes != NATIVE_SYNTAXES)
    assert compressed[CT] >= 8 and set(compressed) <= set(COMMON_IMAGE_CLASSES)
    assert {syntaxes[0] for uid, syntaxes in contexts if uid == CT} >= {RLE_LOSSLESS, JPEG_LS_LOSSLESS}
    # Only what our codecs decode is offered.
    assert all(syntaxes in (NATIVE_SYNTAXES, (RLE_LOSSLESS,)) for _uid, syntaxes in offered_contexts([RLE_LOSSLESS]))


def test_our_scu_keeps_compressed_instances_as_stored(compressed_site, our_listener, tmp_path):
    ours = our_listener(compressed_site.kernel)
    [study] = compressed_site.study_uids()
    into = compressed_site.kernel.open_instance_store(str(tmp_path / "out"))
    with compressed_site.kernel.open_transport(f"dicom://OURAE@127.0.0.1:{ours.port}") as peer:
        *received, final = list(peer.retrieve("study", {"StudyInstanceUID": study}, into=into))
    assert (final.ok, final.completed, final.failed) == (True, 3, 0)
    originals = stored(compressed_site)
    syntaxes = {}
    for result in received:
        got, original = pydicom.dcmread(result.location), originals[result.sop_instance_uid]
        syntaxes[str(got.file_meta.TransferSyntaxUID)] = result.sop_instance_uid
        assert got.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        assert got.PixelData == original.PixelData  # compressed fragments byte for byte
    assert set(syntaxes) == {EXPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS, JPEG_LS_LOSSLESS}


def getscu(site: IndexedSite, port: int, out: Path, *options: str) -> dict[str, pydicom.Dataset]:
    out.mkdir()
    finished = subprocess.run([dcmtk("getscu"), "-v", "-S", *options, "-aet", "DCMTK", "-aec", "OURAE",
                               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={site.study_uids()[0]}",
                               "-od", str(out), "127.0.0.1", str(port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return {str(ds.SOPInstanceUID): ds for ds in (pydicom.dcmread(path) for path in out.iterdir())}


def test_getscu_taking_native_only_gets_lossless_transcodes(compressed_site, our_listener, tmp_path):
    ours = our_listener(compressed_site.kernel)
    received = getscu(compressed_site, ours.port, tmp_path / "native")
    originals = stored(compressed_site)
    assert set(received) == set(originals)
    for uid, dataset in received.items():
        assert dataset.file_meta.TransferSyntaxUID in NATIVE
        assert np.array_equal(dataset.pixel_array, originals[uid].pixel_array)  # lossless


def test_getscu_preferring_rle_gets_rle_as_stored(compressed_site, our_listener, tmp_path):
    ours = our_listener(compressed_site.kernel)
    received = getscu(compressed_site, ours.port, tmp_path / "rle", "+xr")
    originals = stored(compressed_site)
    assert set(received) == set(originals)
    for uid, dataset in received.items():
        # getscu proposes RLE and the native syntaxes in one context per class: our listener takes
        # RLE, so the RLE instance goes as stored and the others are encoded losslessly to RLE.
        assert dataset.file_meta.TransferSyntaxUID == RLE_LOSSLESS
        assert np.array_equal(dataset.pixel_array, originals[uid].pixel_array)
        if originals[uid].file_meta.TransferSyntaxUID == RLE_LOSSLESS:
            assert dataset.PixelData == originals[uid].PixelData
