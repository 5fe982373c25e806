"""Our C-FIND SCU (through the kernel's dicom:// adapter) against our own SCP."""

from __future__ import annotations

import time

import pytest
from pydicom import Dataset

from gantry import TransportError


def url(listener) -> str:
    return f"dicom://OURAE@127.0.0.1:{listener.port}?calling=GANTRY"


def test_study_query_with_wildcard_date_range_and_return_keys(indexed_site, our_listener):
    ours = our_listener(indexed_site.kernel)
    keys = {"PatientName": "PLANTED*", "StudyDate": "20240101-", "StudyInstanceUID": "", "StudyDescription": "",
            "NumberOfStudyRelatedInstances": ""}
    with indexed_site.kernel.open_transport(url(ours)) as peer:
        answers = list(peer.find("study", keys))
    expected = indexed_site.query("study", {"PatientName": "PLANTED*", "StudyDate": "20240101-"})
    assert sorted(str(answer.StudyInstanceUID) for answer in answers) == sorted(
        row["StudyInstanceUID"] for row in expected)
    assert [int(answer.NumberOfStudyRelatedInstances) for answer in answers] == [3]
    assert all(isinstance(answer, Dataset) and answer.QueryRetrieveLevel == "STUDY" for answer in answers)


def test_patient_root_at_every_level(indexed_site, our_listener):
    ours = our_listener(indexed_site.kernel)
    with indexed_site.kernel.open_transport(url(ours)) as peer:
        patients = list(peer.find("patient", {"PatientName": "M*", "PatientID": ""}, model="patient"))
        assert [str(answer.PatientName) for answer in patients] == ["MÜLLER^ANNA"]
        patient_id = str(patients[0].PatientID)
        studies = list(peer.find("study", {"PatientID": patient_id, "StudyInstanceUID": ""}, model="patient"))
        study = str(studies[0].StudyInstanceUID)
        series = list(peer.find("series", {"PatientID": patient_id, "StudyInstanceUID": study,
                                           "SeriesInstanceUID": ""}, model="patient"))
        images = list(peer.find("instance", {"PatientID": patient_id, "StudyInstanceUID": study,
                                             "SeriesInstanceUID": str(series[0].SeriesInstanceUID),
                                             "SOPInstanceUID": ""}, model="patient"))
    assert (len(studies), len(series), len(images)) == (1, 1, 1)


@pytest.mark.parametrize(("level", "model", "missing"), [
    ("series", "study", "StudyInstanceUID"), ("instance", "study", "StudyInstanceUID"),
    ("study", "patient", "PatientID"), ("patient", "study", "no PATIENT level")])
def test_a_query_that_is_not_hierarchical_is_refused_before_sending(indexed_site, our_listener, level, model, missing):
    ours = our_listener(indexed_site.kernel)
    with indexed_site.kernel.open_transport(url(ours)) as peer:
        with pytest.raises(TransportError, match=missing):
            list(peer.find(level, {"Modality": "CT"}, model=model))
        with pytest.raises(TransportError, match="single value"):
            list(peer.find("series", {"StudyInstanceUID": "1.2.*"}))
    assert ours.accepted == 0


def test_a_failure_status_is_a_transport_error_with_its_meaning_and_reason(indexed_site, our_listener):
    from gantry_cfind.models import STUDY_ROOT_FIND
    from gantry_cfind.scu import _collect

    ours = our_listener(indexed_site.kernel)
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "WARD"
    with indexed_site.kernel.open_transport(url(ours)) as peer:
        with pytest.raises(TransportError, match=r"0xA900 \(Identifier Does Not Match SOP Class\): QueryRetrieveLevel"):
            peer.run((STUDY_ROOT_FIND,), lambda association: _collect(association, identifier, STUDY_ROOT_FIND,
                                                                      None, peer.url))


class SlowRows:
    """Index rows that take a while each, so a C-CANCEL arrives while matches are still going."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.served = 0

    def __iter__(self):
        for number in range(self.count):
            time.sleep(0.05)
            self.served += 1
            yield {"SOPInstanceUID": f"1.2.3.{number}"}


class SlowBackend:
    def __init__(self, rows: SlowRows) -> None:
        self.rows = rows

    def query(self, level, filters):
        return self.rows

    def close(self) -> None:
        pass


def test_limit_cancels_and_the_scp_stops_answering(our_listener):
    from pynetdicom import evt

    from gantry_cfind.models import FIND_SOP_CLASSES
    from gantry_cfind.scp import FindScp
    from gantry_dimse.services import ScpRole
    from gantry_dimse.transport import open_transport

    rows = SlowRows(100)
    scp = FindScp(SlowBackend(rows))
    final_statuses = []

    def recording(event):
        for status, answer in scp.handle_find(event):
            if answer is None:
                final_statuses.append(status)
            yield status, answer

    role = ScpRole(service="C-FIND", abstract_syntaxes=tuple(FIND_SOP_CLASSES.values()),
                   handlers=((evt.EVT_C_FIND, recording),))
    ours = our_listener(None, roles=[role])
    keys = {"StudyInstanceUID": "1.2", "SeriesInstanceUID": "1.2.3", "SOPInstanceUID": ""}
    with open_transport(url(ours), kernel=_kernel_with_cfind()) as peer:
        answers = list(peer.find("instance", keys, limit=3))
        assert [str(answer.SOPInstanceUID) for answer in answers] == ["1.2.3.0", "1.2.3.1", "1.2.3.2"]
        # The association went back to the pool in a clean state: the next query works on it.
        assert len(list(peer.find("instance", keys, limit=1))) == 1
    assert final_statuses == [0xFE00, 0xFE00] and rows.served < 20


def _kernel_with_cfind():
    import gantry_cfind.plugin as cfind_plugin
    import gantry_dimse.plugin as dimse_plugin
    from gantry.testing.fixtures import kernel_with

    return kernel_with({"dimse": dimse_plugin, "cfind": cfind_plugin})
