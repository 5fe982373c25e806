"""The object model reads through the kernel's readers, and only when asked."""

from __future__ import annotations

import numpy as np
import gantry_part10.plugin

from gantry import Instance, Patient, Series, Study
from gantry.testing.datasets import PLANTED_PHI, make_dataset


def test_instance_reads_lazily_through_the_kernel(make_kernel, dicom_file, monkeypatch):
    kernel = make_kernel({"part10": gantry_part10.plugin})
    path = dicom_file("ct.dcm", rows=8, columns=8, frames=2)
    calls = []
    original = kernel.read
    monkeypatch.setattr(kernel, "read", lambda *a, **k: calls.append(k) or original(*a, **k))
    instance = Instance(sop_instance_uid="1.2.3", location=path, kernel=kernel)
    assert calls == []  # building the model reads nothing
    assert instance.header().Rows == 8
    assert instance.header() is instance.header()  # the header is read once
    assert calls == [{"stop_before_pixels": True}]
    assert "PixelData" not in instance.header()
    expected = make_dataset(rows=8, columns=8, frames=2).pixel_array
    assert np.array_equal(instance.pixels(), expected)
    assert calls[-1] == {"stop_before_pixels": False}


def test_navigation_loads_children_on_first_access():
    loads = []

    def instances():
        loads.append("instances")
        return [Instance(sop_instance_uid="1.2.3.4")]

    def series():
        loads.append("series")
        return [Series(series_instance_uid="1.2.3", load_instances=instances)]

    def studies():
        loads.append("studies")
        return [Study(study_instance_uid="1.2", load_series=series)]

    patient = Patient(patient_id=PLANTED_PHI["PatientID"], load_studies=studies)
    assert loads == []
    uids = [i.sop_instance_uid for s in patient.studies for se in s.series for i in se.instances]
    assert uids == ["1.2.3.4"]
    assert loads == ["studies", "series", "instances"]
    patient.studies  # noqa: B018  (cached: no second load)
    assert loads == ["studies", "series", "instances"]
    assert PLANTED_PHI["PatientID"] not in repr(patient)


def test_is_dicom_tells_clutter_apart(make_kernel, sample_folder):
    kernel = make_kernel({"part10": gantry_part10.plugin})
    _, made = sample_folder
    assert all(kernel.is_dicom(path) for path in made["dicom"])
    assert not any(kernel.is_dicom(path) for path in made["not_dicom"])
