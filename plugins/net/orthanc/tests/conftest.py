"""Fixtures for the gantry-orthanc tests: a real Orthanc 1.10 (the session's ``orthanc_server``,
or a dedicated one), a site (an installed kernel with a SQLite index and a store folder in tmp),
and a small corpus of DICOM files with known patients, dates and modalities.

Every test starts with no circuit-breaker state and must leave no thread behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from gantry.testing.index import LocalSite, local_site
from gantry.testing.network import no_threads_left

#: (patient number, PatientID, PatientName, study number, StudyDate, [(series, modality, instances)])
CORPUS = (
    (1, "ORT-001", "DOE^JANE", 1, "20230110", [(1, "CT", 2), (2, "MR", 1)]),
    (2, "ORT-002", "DOE^JOHN", 1, "20240620", [(1, "MR", 2)]),
    (3, "XYZ-003", "SMITH^ANN", 1, "20250101", [(1, "CT", 1)]),
)


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    with no_threads_left():
        yield


@attrs.frozen
class Corpus:
    folder: Path
    files: dict[str, Path]
    """SOP Instance UID -> file."""
    studies: dict[str, str]
    """PatientID -> StudyInstanceUID."""
    series: dict[tuple[str, str], str]
    """(PatientID, Modality) -> SeriesInstanceUID."""

    def file_of(self, sop_uid: str) -> Path:
        return self.files[sop_uid]


def write_corpus(folder: Path) -> Corpus:
    from gantry.testing.datasets import make_dataset, write_dataset

    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    studies: dict[str, str] = {}
    series_uids: dict[tuple[str, str], str] = {}
    for patient, patient_id, name, study, date, series_list in CORPUS:
        for series, modality, count in series_list:
            for instance in range(1, count + 1):
                dataset = make_dataset(patient=patient, study=study, series=series, instance=instance,
                                       modality=modality, rows=16 + instance, columns=16,
                                       seed=patient * 100 + series * 10 + instance)
                dataset.PatientID, dataset.PatientName = patient_id, name
                dataset.StudyDate = dataset.SeriesDate = dataset.ContentDate = date
                path = folder / f"p{patient}" / f"s{series}" / f"i{instance}.dcm"
                path.parent.mkdir(parents=True, exist_ok=True)
                write_dataset(dataset, path)
                files[str(dataset.SOPInstanceUID)] = path
                studies[patient_id] = str(dataset.StudyInstanceUID)
                series_uids[(patient_id, modality)] = str(dataset.SeriesInstanceUID)
    return Corpus(folder=folder, files=files, studies=studies, series=series_uids)


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def orthanc(orthanc_server: Any) -> Any:
    """The session's Orthanc, emptied."""
    orthanc_server.clear()
    return orthanc_server


@pytest.fixture
def orthanc_url(orthanc: Any) -> str:
    return f"orthanc+http://127.0.0.1:{orthanc.http_port}"


@pytest.fixture
def loaded(orthanc: Any, corpus: Corpus) -> Corpus:
    """The corpus, uploaded to the session's Orthanc (through its own REST API, not ours)."""
    for path in corpus.files.values():
        orthanc.upload(path.read_bytes())
    return corpus


@pytest.fixture
def site(tmp_path: Path) -> LocalSite:
    return local_site(tmp_path)


@pytest.fixture
def dedicated_orthanc() -> Iterator[Callable[..., Any]]:
    """``start(**extra)``: an Orthanc of the test's own with these configuration keys."""
    from gantry.testing.orthanc import OrthancServer

    started: list[Any] = []

    def start(**extra: Any) -> Any:
        server = OrthancServer.start(dicomweb=False, extra=extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
