"""C-MOVE both ways with a real Orthanc (the session's ``orthanc_server``, Orthanc 1.10):

- our SCU asks Orthanc to move instances to our listener (a modality Orthanc knows);
- Orthanc's C-MOVE SCU (``POST /modalities/NAME/move``) asks our SCP to move instances to Orthanc,
  which our ``[cmove] destinations`` lists at its DICOM port.

What arrived is checked on the receiving side, byte for byte in pixel data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import attrs
import pydicom
import pytest
from click.testing import CliRunner

from gantry import TransportError
from gantry.cli import make_app
from gantry.testing.datasets import make_dataset
from gantry.testing.index import IndexedSite, indexed_site

#: (study, series, instances) of one patient, as in conftest.py: study 1 has three in two series.
ARCHIVE = [(1, 1, 2), (1, 2, 1), (2, 1, 1)]
CALLING = "GANTRYMOVE"
OUR_DESTINATION = "OURDEST"
OUR_SCP = "OURMOVE"


def archive_datasets() -> list[Any]:
    return [make_dataset(patient=1, study=study, series=series, instance=instance, rows=4, columns=4)
            for study, series, instances in ARCHIVE for instance in range(1, instances + 1)]


def instances_in(site: IndexedSite | Any, filters: dict[str, str] | None = None) -> dict[str, str]:
    """SOP Instance UID -> file location, from a site's index."""
    return {row["SOPInstanceUID"]: row["location"] for row in site.query("instance", filters or {})}


# -- our SCU, Orthanc's SCP -----------------------------------------------------------------------


@attrs.frozen
class Receiver:
    """Our listener as a move destination, storing into its own empty site."""

    listener: Any
    site: Any

    def received(self) -> dict[str, str]:
        return instances_in(self.site)


@pytest.fixture
def archive(tmp_path: Path) -> IndexedSite:
    """The archive as files (and an index we only read to know what to expect)."""
    return indexed_site(tmp_path / "archive-site", archive_datasets())


@pytest.fixture
def orthanc(orthanc_server, archive) -> Iterator[Any]:
    """The session's Orthanc holding exactly the archive and knowing our calling AE (Orthanc 1.10
    serves C-MOVE only to configured modalities)."""
    orthanc_server.clear()
    for path in sorted(archive.folder.glob("*.dcm")):
        orthanc_server.upload(path.read_bytes())
    orthanc_server.add_modality("gantry-move-scu", CALLING, 104)
    yield orthanc_server
    orthanc_server.rest("DELETE", "/modalities/gantry-move-scu")


@pytest.fixture
def receiver(orthanc_server, our_listener, tmp_path: Path, make_kernel) -> Iterator[Receiver]:
    database = f"sqlite:///{tmp_path / 'received.db'}"
    kernel = make_kernel(config={"storage": {"database": database, "store": str(tmp_path / "received")}},
                         discover=True)
    ours = our_listener(kernel, OUR_DESTINATION, allow=("ORTHANC",))
    orthanc_server.add_modality("gantry-destination", OUR_DESTINATION, ours.port)
    yield Receiver(listener=ours, site=_Reader(kernel, database))
    orthanc_server.rest("DELETE", "/modalities/gantry-destination")


@attrs.frozen
class _Reader:
    kernel: Any
    database: str

    def query(self, level: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        backend = self.kernel.open_storage(self.database)
        try:
            return backend.query(level, filters)
        finally:
            backend.close()


def move(site, orthanc, level, keys, destination=OUR_DESTINATION, model="study") -> list[Any]:
    with site.kernel.open_transport(f"{orthanc.dicom_url}?calling={CALLING}") as peer:
        return list(peer.retrieve(level, keys, destination=destination, model=model))


def check_byte_equal(received: dict[str, str], originals: dict[str, str]) -> None:
    assert set(received) == set(originals)
    for uid, location in received.items():
        assert pydicom.dcmread(location).PixelData == pydicom.dcmread(originals[uid]).PixelData


def test_orthanc_moves_a_study_to_our_listener(archive, orthanc, receiver):
    study = archive.study_uids()[0]
    *pending, final = move(archive, orthanc, "study", {"StudyInstanceUID": study})
    assert (final.ok, final.status, final.completed, final.failed) == (True, 0, 3, 0), final
    assert final.reason == "status 0x0000 (Success)"
    # Orthanc reports a pending response after each sub-operation but the last.
    assert [(r.ok, r.remaining, r.completed, r.failed) for r in pending] == [(True, 2, 1, 0), (True, 1, 2, 0)]
    check_byte_equal(receiver.received(), instances_in(archive, {"StudyInstanceUID": study}))
    assert receiver.listener.accepted >= 1


def test_orthanc_moves_a_series_and_a_patient(archive, orthanc, receiver):
    study = archive.study_uids()[0]
    series = sorted({row["SeriesInstanceUID"] for row in archive.query("instance", {"StudyInstanceUID": study})})
    final = move(archive, orthanc, "series", {"StudyInstanceUID": study, "SeriesInstanceUID": series[1]})[-1]
    assert (final.completed, final.failed) == (1, 0)
    check_byte_equal(receiver.received(), instances_in(archive, {"SeriesInstanceUID": series[1]}))
    patient_id = archive.query("patient", {})[0]["PatientID"]
    final = move(archive, orthanc, "patient", {"PatientID": patient_id}, model="patient")[-1]
    assert (final.completed, final.failed) == (4, 0)
    check_byte_equal(receiver.received(), instances_in(archive))


def test_orthanc_moves_a_compressed_instance_to_us_as_it_is(archive, orthanc, receiver, tmp_path):
    from gantry.testing.datasets import write_dataset
    from gantry.uids import RLE_LOSSLESS
    from gantry_transcode.transcode import transcode_file

    dataset = make_dataset(patient=5, study=5, rows=32, columns=32)
    plain = write_dataset(dataset, tmp_path / "plain.dcm")
    assert transcode_file(archive.kernel, plain, tmp_path / "rle.dcm", RLE_LOSSLESS).ok
    orthanc.upload((tmp_path / "rle.dcm").read_bytes())
    final = move(archive, orthanc, "study", {"StudyInstanceUID": str(dataset.StudyInstanceUID)})[-1]
    assert (final.completed, final.failed) == (1, 0)
    [row] = receiver.site.query("instance", {})
    assert row["SOPInstanceUID"] == str(dataset.SOPInstanceUID) and row["transfer_syntax_uid"] == RLE_LOSSLESS
    assert pydicom.dcmread(row["location"]).PixelData == pydicom.dcmread(tmp_path / "rle.dcm").PixelData


def test_gantry_move_cli_asks_orthanc(archive, orthanc, receiver, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    study = archive.study_uids()[1]
    result = CliRunner().invoke(make_app(), ["move", f"{orthanc.dicom_url}?calling={CALLING}", "--dest",
                                             OUR_DESTINATION, "-k", f"StudyInstanceUID={study}", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["completed"], summary["failed"]) == (1, 0), summary
    check_byte_equal(receiver.received(), instances_in(archive, {"StudyInstanceUID": study}))


def test_orthanc_refuses_a_destination_it_does_not_know(archive, orthanc, receiver):
    # Orthanc 1.10 answers 0xC000 (Unable to Process) where PS3.4 has 0xA801 (Move Destination Unknown).
    with pytest.raises(TransportError, match=r"C-MOVE to NOWHERE failed: status 0xC000"):
        move(archive, orthanc, "study", {"StudyInstanceUID": archive.study_uids()[0]}, destination="NOWHERE")
    assert receiver.received() == {}


# -- Orthanc's SCU, our SCP -----------------------------------------------------------------------


@pytest.fixture
def our_scp(orthanc_server, our_listener, tmp_path: Path) -> Iterator[tuple[IndexedSite, Any]]:
    """Our SCP over an indexed archive (plus one RLE file), with Orthanc's DICOM port as the move
    destination ORTHANC; Orthanc knows it as modality ``gantry-move``."""
    from gantry.testing.datasets import write_dataset
    from gantry.testing.fixtures import kernel_with
    from gantry.uids import RLE_LOSSLESS
    from gantry_transcode.transcode import transcode_file

    orthanc_server.clear()
    compressed = make_dataset(patient=1, study=3, series=1, instance=1, rows=32, columns=32)
    plain = write_dataset(compressed, tmp_path / "plain.dcm")
    outcome = transcode_file(kernel_with(discover=True), plain, tmp_path / "rle.dcm", RLE_LOSSLESS)
    assert outcome.ok, outcome.reason
    destinations = [{"ae": "ORTHANC", "host": "127.0.0.1", "port": orthanc_server.dicom_port}]
    site = indexed_site(tmp_path / "scp-site", [*archive_datasets(), pydicom.dcmread(tmp_path / "rle.dcm")],
                        config={"cmove": {"destinations": destinations}})
    ours = our_listener(site.kernel, OUR_SCP, allow=("ORTHANC",))
    orthanc_server.add_modality("gantry-move", OUR_SCP, ours.port)
    yield site, ours
    orthanc_server.rest("DELETE", "/modalities/gantry-move")


def orthanc_files(orthanc) -> dict[str, pydicom.Dataset]:
    stored = {}
    for instance_id in orthanc.rest("GET", "/instances"):
        dataset = pydicom.dcmread(BytesIO(orthanc.rest("GET", f"/instances/{instance_id}/file")))
        stored[str(dataset.SOPInstanceUID)] = dataset
    return stored


def orthanc_move(orthanc, level: str, resources: list[dict[str, str]], target: str = "ORTHANC") -> Any:
    return orthanc.rest("POST", "/modalities/gantry-move/move", {"Level": level, "Resources": resources,
                                                                  "TargetAet": target, "Synchronous": True})


def test_orthanc_asks_our_scp_to_move_a_study_to_it(orthanc_server, our_scp):
    site, ours = our_scp
    study = site.study_uids()[0]
    orthanc_move(orthanc_server, "Study", [{"StudyInstanceUID": study}])
    expected = instances_in(site, {"StudyInstanceUID": study})
    stored = orthanc_files(orthanc_server)
    assert set(stored) == set(expected) and len(stored) == 3
    for uid, dataset in stored.items():
        assert dataset.PixelData == pydicom.dcmread(expected[uid]).PixelData
    assert ours.accepted == 1


def test_orthanc_moves_series_and_instances_including_a_compressed_one(orthanc_server, our_scp):
    site, _ours = our_scp
    rows = site.query("instance", {})
    rle = next(row for row in rows if row["transfer_syntax_uid"] == "1.2.840.10008.1.2.5")
    plain = next(row for row in rows if row["StudyInstanceUID"] != rle["StudyInstanceUID"])
    orthanc_move(orthanc_server, "Series", [{"StudyInstanceUID": plain["StudyInstanceUID"],
                                             "SeriesInstanceUID": plain["SeriesInstanceUID"]}])
    orthanc_move(orthanc_server, "Instance", [{"StudyInstanceUID": rle["StudyInstanceUID"],
                                               "SeriesInstanceUID": rle["SeriesInstanceUID"],
                                               "SOPInstanceUID": rle["SOPInstanceUID"]}])
    expected = {**instances_in(site, {"SeriesInstanceUID": plain["SeriesInstanceUID"]}),
                rle["SOPInstanceUID"]: rle["location"]}
    stored = orthanc_files(orthanc_server)
    assert set(stored) == set(expected)
    for uid, dataset in stored.items():
        assert dataset.PixelData == pydicom.dcmread(expected[uid]).PixelData  # RLE fragments byte for byte
    assert stored[rle["SOPInstanceUID"]].file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # sent as it is


def test_orthanc_asking_for_a_destination_we_do_not_list_gets_nothing(orthanc_server, our_scp):
    site, _ours = our_scp
    # Our SCP answers 0xA801 (Move Destination Unknown), which Orthanc reports as it received it.
    with pytest.raises(RuntimeError, match=r"C-MOVE SCU to AET .*OURMOVE.* has failed with DIMSE status 0xA801"):
        orthanc_move(orthanc_server, "Study", [{"StudyInstanceUID": site.study_uids()[0]}], target="NOWHERE")
    assert orthanc_server.rest("GET", "/instances") == []




def test_orthanc_queries_then_retrieves_an_answer_and_moves_a_patient(orthanc_server, our_scp):
    site, _ours = our_scp
    created = orthanc_server.rest("POST", "/modalities/gantry-move/query",
                                  {"Level": "Study", "Query": {"StudyDate": "", "ModalitiesInStudy": "CT"}})
    path = created["Path"]
    try:
        answers = [orthanc_server.rest("GET", f"{path}/answers/{index}/content?simplify")
                   for index in orthanc_server.rest("GET", f"{path}/answers")]
        assert sorted(answer["StudyInstanceUID"] for answer in answers) == site.study_uids()
        first = answers[0]["StudyInstanceUID"]
        index = next(i for i, answer in enumerate(answers) if answer["StudyInstanceUID"] == first)
        # Orthanc's retrieve sends the answer's identifying keys back to us in a C-MOVE.
        orthanc_server.rest("POST", f"{path}/answers/{index}/retrieve", {"TargetAet": "ORTHANC", "Synchronous": True})
    finally:
        orthanc_server.rest("DELETE", path)
    assert set(orthanc_files(orthanc_server)) == set(instances_in(site, {"StudyInstanceUID": first}))
    patient_id = site.query("patient", {})[0]["PatientID"]
    orthanc_move(orthanc_server, "Patient", [{"PatientID": patient_id}])
    assert set(orthanc_files(orthanc_server)) == set(instances_in(site)) and len(instances_in(site)) == 5
