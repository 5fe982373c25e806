"""The U action on elements: values replaced, well-known UIDs kept, references consistent,
earlier mappings in a real storage backend preferred."""

from __future__ import annotations

import pytest
from pydicom import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, UID_dictionary

from gantry import DeidError
from gantry_uidmap import remap_uid
from gantry_uidmap.action import apply

SECRET = b"site secret for the uidmap tests"
STUDY = "1.2.826.0.1.3680043.8.498.1"
SERIES = "1.2.826.0.1.3680043.8.498.1.2"
SOP = "1.2.826.0.1.3680043.8.498.1.2.3"


def test_a_uid_is_replaced_and_the_pair_recorded(context, ui):
    dataset, element = ui("StudyInstanceUID", STUDY)
    ctx = context()
    apply(dataset, element, ctx)
    assert dataset.StudyInstanceUID == remap_uid(STUDY, SECRET) != STUDY
    assert ctx.uid_pairs == {STUDY: dataset.StudyInstanceUID}


def test_well_known_uids_are_kept(context, ui):
    well_known = list(UID_dictionary)[::25] + [CTImageStorage, ExplicitVRLittleEndian,
                                                "1.2.840.10008.1.4.1.1"]  # Talairach frame of reference
    dataset, element = ui("ReferencedSOPClassUID", well_known)
    ctx = context()
    apply(dataset, element, ctx)
    assert list(dataset.ReferencedSOPClassUID) == well_known and ctx.uid_pairs == {}


def test_each_value_of_a_multi_valued_element_is_mapped(context, ui):
    values = [STUDY, CTImageStorage, SERIES, STUDY]
    dataset, element = ui("FailedSOPInstanceUIDList", values)
    ctx = context()
    apply(dataset, element, ctx)
    expected = [remap_uid(STUDY, SECRET), CTImageStorage, remap_uid(SERIES, SECRET), remap_uid(STUDY, SECRET)]
    assert list(dataset.FailedSOPInstanceUIDList) == expected
    assert ctx.uid_pairs == {STUDY: expected[0], SERIES: expected[2]}


def test_empty_values_stay_empty(context, ui):
    for value in ("", None):
        dataset, element = ui("FrameOfReferenceUID", value)
        ctx = context()
        apply(dataset, element, ctx)
        assert element.value in ("", None) and ctx.uid_pairs == {}


# The test writes an invalid value on purpose; pydicom warns about it when it is set.
@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_a_value_that_is_not_a_uid_is_mapped_to_a_valid_one(context, ui):
    dataset, element = ui("SeriesInstanceUID", "1.2.3.four.0005")
    apply(dataset, element, context())
    assert dataset.SeriesInstanceUID.is_valid


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_a_reference_maps_to_the_value_of_the_instance_it_points_at(context):
    image = Dataset()
    image.SOPInstanceUID = SOP
    report = Dataset()
    reference = Dataset()
    reference.ReferencedSOPClassUID = CTImageStorage
    reference.ReferencedSOPInstanceUID = SOP + "\x00"  # padded, as read from an even-length field
    report.ReferencedImageSequence = [reference]

    # Two instances, two contexts, as two runs (or two machines) with the same secret would do.
    apply(image, image["SOPInstanceUID"], context())
    apply(report, reference["ReferencedSOPInstanceUID"], context())
    apply(report, reference["ReferencedSOPClassUID"], context())
    assert reference.ReferencedSOPInstanceUID == image.SOPInstanceUID != SOP
    assert reference.ReferencedSOPClassUID == CTImageStorage


def test_the_namespace_setting_separates_projects(context, ui):
    replaced = []
    for namespace in ("project-a", "project-b"):
        dataset, element = ui("StudyInstanceUID", STUDY)
        apply(dataset, element, context(namespace=namespace))
        replaced.append(dataset.StudyInstanceUID)
    assert replaced[0] != replaced[1]
    assert replaced[0] == remap_uid(STUDY, SECRET, "project-a")


def test_an_earlier_mapping_in_the_backend_wins(installed_kernel, tmp_path, context):
    backend = installed_kernel.open_storage(f"sqlite:///{tmp_path}/index.db")
    try:
        backend.uid_map_put({STUDY: "2.25.42"}, namespace="project-a")
        backend.uid_map_put({SERIES: "2.25.43"}, namespace="another-project")
        dataset = Dataset()
        dataset.FailedSOPInstanceUIDList = [STUDY, SERIES]
        ctx = context(namespace="project-a", backend=backend)
        apply(dataset, dataset["FailedSOPInstanceUIDList"], ctx)
        computed = remap_uid(SERIES, SECRET, "project-a")
        assert list(dataset.FailedSOPInstanceUIDList) == ["2.25.42", computed]
        assert ctx.uid_pairs == {STUDY: "2.25.42", SERIES: computed}
        # The action only reads: the backend holds what it held before.
        assert backend.uid_map_get([STUDY, SERIES], namespace="project-a") == {STUDY: "2.25.42"}
    finally:
        backend.close()


def test_an_invalid_mapping_in_the_backend_is_refused(installed_kernel, tmp_path, context, ui):
    backend = installed_kernel.open_storage(f"sqlite:///{tmp_path}/index.db")
    try:
        backend.uid_map_put({STUDY: "1.02.x"})
        dataset, element = ui("StudyInstanceUID", STUDY)
        with pytest.raises(DeidError, match=r"invalid replacement .* \(0020,000D\) StudyInstanceUID"):
            apply(dataset, element, context(backend=backend))
        assert dataset.StudyInstanceUID == STUDY
    finally:
        backend.close()


def test_an_element_that_is_not_ui_is_an_error_naming_the_tag(context, ui):
    dataset, element = ui("PatientID", "PID-1")
    with pytest.raises(DeidError, match=r"\(0010,0020\) PatientID has VR 'LO'"):
        apply(dataset, element, context())
    assert dataset.PatientID == "PID-1"


def test_without_a_secret_nothing_is_replaced(context, ui):
    dataset, element = ui("StudyInstanceUID", STUDY)
    with pytest.raises(DeidError, match="secret"):
        apply(dataset, element, context(secret=b""))
    assert dataset.StudyInstanceUID == STUDY
