"""The redact-pixels step on native images: zones blanked, everything else byte for byte, flags."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from gantry import DeidError
from gantry.testing.datasets import make_dataset
from gantry.testing.phi_corpus import BURNED_IN_ZONE, US_MACHINE
from gantry_redact.action import NO_ZONE_FLAG, apply

TOP, LEFT, BOTTOM, RIGHT = BURNED_IN_ZONE


def _pixels(dataset):
    return np.frombuffer(dataset.PixelData, dtype=np.uint8).reshape(dataset.Rows, dataset.Columns)


def _outside(array):
    mask = np.ones(array.shape[:2], dtype=bool)
    mask[TOP:BOTTOM, LEFT:RIGHT] = False
    return array[mask]


def test_the_corpus_ultrasound_has_its_zone_blanked_and_nothing_else_changed(us_file, machine, context):
    original = pydicom.dcmread(us_file)
    dataset = pydicom.dcmread(us_file)
    assert _pixels(original)[TOP:BOTTOM, LEFT:RIGHT].max() == 255  # the burned-in strokes
    ctx = context(machines=[machine])
    apply(dataset, None, ctx)
    after = _pixels(dataset)
    assert (after[TOP:BOTTOM, LEFT:RIGHT] == 0).all()
    assert _outside(after).tobytes() == _outside(_pixels(original)).tobytes()
    assert len(dataset.PixelData) == len(original.PixelData)
    assert dataset.BurnedInAnnotation == "NO"
    assert ctx.used_options == {"clean-pixel-data"}
    assert ctx.notes == ["pixels redacted: 1 zones on 1 frames"] and ctx.flags == []


def test_settings_come_from_the_kernel_when_the_context_has_none(us_file, machine, make_kernel):
    import gantry_redact.plugin as redact_plugin
    from gantry.deid import DeidContext

    kernel = make_kernel({"redact": redact_plugin}, config={"redact": {"machines": [machine]}})
    ctx = DeidContext(sop_instance_uid="1.2", patient_key="P", secret=b"s", kernel=kernel)
    dataset = pydicom.dcmread(us_file)
    apply(dataset, None, ctx)
    assert (_pixels(dataset)[TOP:BOTTOM, LEFT:RIGHT] == 0).all()


def test_an_ultrasound_no_machine_matches_is_flagged_and_left_unchanged(us_file, machine, context):
    other = {**machine, "match": {**machine["match"], "DeviceSerialNumber": "SOMEONE-ELSE"}}
    dataset = pydicom.dcmread(us_file)
    before = dataset.PixelData
    ctx = context(machines=[other])
    apply(dataset, None, ctx)
    assert ctx.flags == [NO_ZONE_FLAG] and ctx.used_options == set() and ctx.notes == []
    assert dataset.PixelData == before and dataset.BurnedInAnnotation == "YES"
    assert not any(value in ctx.flags[0] for value in US_MACHINE.values())  # keys named, never values


def test_burned_in_annotation_yes_on_any_modality_is_a_risk(context):
    ct = make_dataset(modality="CT", seed=1)
    ct.BurnedInAnnotation = "YES"
    ctx = context()
    apply(ct, None, ctx)
    assert ctx.flags == [NO_ZONE_FLAG]


def test_a_ct_without_burned_in_annotation_is_untouched_and_not_flagged(context):
    ct = make_dataset(modality="CT", seed=1)
    before = ct.PixelData
    ctx = context(machines=[{"match": {"Manufacturer": "elsewhere"}, "zones": [[0, 0, 1, 1]]}])
    apply(ct, None, ctx)
    assert ctx.flags == [] and ctx.notes == [] and ctx.used_options == set()
    assert ct.PixelData == before and "BurnedInAnnotation" not in ct


def test_the_modality_list_is_configurable(context):
    us = make_dataset(modality="US", seed=1)
    ctx = context(risky_modalities=["XA"])
    apply(us, None, ctx)
    assert ctx.flags == []


def test_a_dataset_without_pixels_is_left_alone(context):
    from pydicom import Dataset

    report = Dataset()
    report.Modality, report.BurnedInAnnotation = "SR", "YES"
    ctx = context()
    apply(report, None, ctx)
    assert ctx.flags == []


@pytest.mark.parametrize(("options", "fill"), [
    ({"bits_allocated": 16, "bits_stored": 12}, 0),
    ({"bits_allocated": 16, "bits_stored": 12, "signed": True}, -2048),
    ({"bits_allocated": 16, "bits_stored": 12, "photometric": "MONOCHROME1"}, 4095),
    ({"bits_allocated": 8, "photometric": "RGB"}, (0, 0, 0)),
    ({"bits_allocated": 8, "photometric": "YBR_FULL"}, (0, 128, 128)),
])
def test_every_frame_and_sample_gets_the_darkest_value(options, fill, context):
    dataset = make_dataset(modality="XA", rows=32, columns=40, frames=3, seed=5, **options)
    before = dataset.PixelData
    ctx = context(machines=[{"match": {"Rows": 32, "Columns": 40}, "zones": [[2, 3, 10, 20], [30, 0, 32, 40]]}])
    apply(dataset, None, ctx)
    samples = 3 if "photometric" in options and options["photometric"] != "MONOCHROME1" else 1
    dtype = np.dtype(f"<{'i' if options.get('signed') else 'u'}{options['bits_allocated'] // 8}")
    shape = (3, 32, 40, samples)
    after = np.frombuffer(dataset.PixelData, dtype=dtype).reshape(shape)
    assert (after[:, 2:10, 3:20] == fill).all() and (after[:, 30:32, :] == fill).all()
    original = np.frombuffer(before, dtype=dtype).reshape(shape).copy()
    original[:, 2:10, 3:20] = fill
    original[:, 30:32, :] = fill
    assert after.tobytes() == original.tobytes()  # nothing else moved, high bits included
    assert ctx.notes == ["pixels redacted: 2 zones on 3 frames"]


def test_planar_configuration_one_is_blanked_plane_by_plane(context):
    dataset = make_dataset(modality="SC", rows=8, columns=8, bits_allocated=8, photometric="RGB", seed=2)
    planes = np.frombuffer(dataset.PixelData, dtype=np.uint8).reshape(8, 8, 3).transpose(2, 0, 1).copy()
    dataset.PixelData, dataset.PlanarConfiguration = planes.tobytes(), 1
    apply(dataset, None, context(machines=[{"match": {"Modality": "sc"}, "zones": [[0, 0, 2, 8]]}]))
    after = np.frombuffer(dataset.PixelData, dtype=np.uint8).reshape(3, 8, 8)
    assert (after[:, 0:2, :] == 0).all() and (after[:, 2:, :] == planes[:, 2:, :]).all()


def test_a_zone_beyond_the_image_fails_closed(context):
    dataset = make_dataset(modality="US", rows=16, columns=16, seed=1)
    with pytest.raises(DeidError, match="zone 0 reaches beyond the image"):
        apply(dataset, None, context(machines=[{"match": {"Modality": "US"}, "zones": [[0, 0, 17, 4]]}]))
