"""The engine: the input left alone, originals, instance steps, providers outranked, errors."""

from __future__ import annotations

import copy
import io
from typing import Any

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from gantry import DeidAction, DeidError, hookimpl
from gantry_deid import compile_plan, deidentify_dataset, make_context

SECRET = b"engine tests"


def raw_count(dataset: Any) -> int:
    return sum(type(element) is RawDataElement for element in dataset._dict.values())


def test_the_input_dataset_is_unchanged(deid_kernel: Any, ct_small: str) -> None:
    dataset = deid_kernel.read(ct_small)
    snapshot = copy.deepcopy(dataset)
    raw_before = raw_count(dataset)
    plan = compile_plan(deid_kernel, options=["retain-safe-private", "clean-descriptors"], keep_originals=True)
    context = make_context(dataset, secret=SECRET, plan=plan)
    out = deidentify_dataset(dataset, plan, context)
    assert raw_count(dataset) == raw_before  # not even decoded in place (checked before == decodes all)
    assert dataset == snapshot
    assert dataset.file_meta == snapshot.file_meta
    assert out.PatientName == "" and dataset.PatientName == "CompressedSamples^CT1"
    # The originals are copies: changing them changes nothing in the input.
    name = next(element for element in context.originals if element.tag == 0x00100010)
    assert name.value == "CompressedSamples^CT1"
    name.value = "CHANGED"
    assert dataset.PatientName == "CompressedSamples^CT1"


def test_originals_hold_every_top_level_element_replaced_or_removed(deid_kernel: Any, ct_small: str) -> None:
    dataset = deid_kernel.read(ct_small)
    plan = compile_plan(deid_kernel, keep_originals=True)
    context = make_context(dataset, secret=SECRET, plan=plan)
    out = deidentify_dataset(dataset, plan, context)
    tags = [int(element.tag) for element in context.originals]
    assert tags == sorted(tags)
    removed = {int(tag) for tag in dataset.keys()} - {int(tag) for tag in out.keys()}
    assert removed <= set(tags)
    assert {0x00100010, 0x00100020, 0x00080018, 0x00081030, 0x00091001, 0x00101002} <= set(tags)
    assert 0x00180050 not in tags  # kept unchanged
    assert compile_plan(deid_kernel).keep_originals is False  # off unless encrypt-originals runs


def test_used_options_are_those_that_decided_something(deid_kernel: Any, ct_small: str) -> None:
    dataset = deid_kernel.read(ct_small)
    plan = compile_plan(deid_kernel, options=["retain-uids", "retain-institution-identity"])
    context = make_context(dataset, secret=SECRET, plan=plan)
    out = deidentify_dataset(dataset, plan, context)
    assert context.used_options == {"retain-uids", "retain-institution-identity"}
    assert out.InstitutionName == "JFK IMAGING CENTER"
    assert out.SOPInstanceUID == dataset.SOPInstanceUID


def test_clean_descriptors_removes_the_instance_identifying_values(deidentify: Any, tmp_path: Any) -> None:
    from gantry.testing import make_dataset

    ds = make_dataset()
    ds.PatientName = "DOE^JOHN"
    ds.StudyDescription = "CT chest John Doe 55F"
    ds.SeriesDescription = "Doe"
    ds.ImageComments = "born 04/07/1961, Planted General Hospital, id PHI-PID-000417"
    ds.PatientBirthDate = "19610704"
    run = deidentify(ds, tmp_path, ["clean-descriptors"])
    out = run.dataset
    assert out.StudyDescription == "CT chest XXX XXX 55F"
    assert out.SeriesDescription == "ANONYMOUS"  # nothing useful left: the dummy
    assert out.ImageComments == "born XXX, XXX, id XXX"
    assert b"Doe" not in run.data and b"John" not in run.data and b"PHI-PID" not in run.data


class Steps:
    """TEST DOUBLES for the instance steps: record what they saw."""

    seen: dict[str, Any] = {}

    @hookimpl
    def gantry_deid_actions(self) -> list[DeidAction]:
        return [DeidAction(name="test-redact", codes=("redact-pixels",), apply=f"{__name__}:redact"),
                DeidAction(name="test-encrypt", codes=("encrypt-originals",), apply=f"{__name__}:encrypt")]


def redact(dataset: Any, element: Any, context: Any) -> None:
    Steps.seen["redact"] = (element, str(dataset.PatientName), context.identifying_values)
    dataset.BurnedInAnnotation = "NO"
    dataset.PixelData = bytes(len(dataset.PixelData))


def encrypt(dataset: Any, element: Any, context: Any) -> None:
    Steps.seen["encrypt"] = (element, len(context.originals), str(dataset.PatientName))


def test_instance_steps_run_before_and_after_the_attribute_actions(make_kernel: Any, stand_ins: Any,
                                                                   ct_small: str) -> None:
    import gantry_deid.plugin as deid_plugin
    import gantry_part10.plugin as part10_plugin

    kernel = make_kernel(plugins={"part10": part10_plugin, "deid": deid_plugin, "stand-ins": stand_ins,
                                  "steps": Steps()})
    dataset = kernel.read(ct_small)
    plan = compile_plan(kernel, options=["clean-pixel-data"], steps=["encrypt-originals"])
    assert plan.keep_originals
    out = deidentify_dataset(dataset, plan, make_context(dataset, secret=SECRET, plan=plan))
    element, name, identifying = Steps.seen["redact"]
    assert element is None and name == "CompressedSamples^CT1" and "CompressedSamples^CT1" in identifying
    element, originals, name = Steps.seen["encrypt"]
    assert element is None and originals > 100 and name == ""
    assert out.BurnedInAnnotation == "NO" and set(out.PixelData) == {0}
    assert set(dataset.PixelData) != {0}  # the input's pixels are untouched
    assert [i.CodeValue for i in out.DeidentificationMethodCodeSequence] == ["113100", "113101"]


class SiteKeep:
    """TEST DOUBLE: a site's K that outranks ours and counts its calls."""

    calls = 0

    @hookimpl
    def gantry_deid_actions(self) -> list[DeidAction]:
        return [DeidAction(name="site-keep", codes=("K",), priority=100, apply=f"{__name__}:site_keep")]


def site_keep(dataset: Any, element: Any, context: Any) -> None:
    SiteKeep.calls += 1


def test_a_site_provider_outranks_ours(make_kernel: Any, stand_ins: Any, ct_small: str) -> None:
    import gantry_deid.plugin as deid_plugin
    import gantry_part10.plugin as part10_plugin

    kernel = make_kernel(plugins={"part10": part10_plugin, "deid": deid_plugin, "stand-ins": stand_ins,
                                  "site": SiteKeep()})
    plan = compile_plan(kernel)
    assert plan.actions["K"].provider == "site-keep"
    dataset = kernel.read(ct_small)
    out = deidentify_dataset(dataset, plan, make_context(dataset, secret=SECRET, plan=plan))
    assert SiteKeep.calls > 30 and out.SliceThickness == dataset.SliceThickness


def failing_uid(dataset: Any, element: Any, context: Any) -> None:
    raise ValueError(f"bad UID {element.value}")


class FailingU:
    @hookimpl
    def gantry_deid_actions(self) -> list[DeidAction]:
        return [DeidAction(name="failing-u", codes=("U",), priority=100, apply=f"{__name__}:failing_uid")]


def test_errors_name_instance_element_path_and_action_but_no_values(make_kernel: Any, stand_ins: Any) -> None:
    import gantry_deid.plugin as deid_plugin

    kernel = make_kernel(plugins={"deid": deid_plugin, "stand-ins": stand_ins, "failing": FailingU()})
    plan = compile_plan(kernel)
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.PatientName = "PHISECRET^NAME"
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.10.1432.999"  # PHI-ish value in a message
    outer = Dataset()
    outer.ReferencedInstanceSequence = Sequence([Dataset(), inner])
    ds.ReferencedSeriesSequence = Sequence([outer])
    context = make_context(ds, secret=SECRET, plan=plan)
    with pytest.raises(DeidError) as failure:
        out = Dataset()
        out.update({element.tag: element for element in ds if element.tag != 0x00080018})
        deidentify_dataset(out, plan, context)
    message = str(failure.value)
    assert "(0008,1115)[0]>(0008,114A)[1]>(0008,1155) ReferencedSOPInstanceUID" in message
    assert "action U (failing-u) failed: ValueError" in message
    assert "1432.999" not in message and "PHISECRET" not in message
    assert isinstance(failure.value.__cause__, ValueError)


def test_nesting_deeper_than_the_bound_is_refused(deid_kernel: Any) -> None:
    plan = compile_plan(deid_kernel)
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3"
    current = ds
    for _ in range(40):
        item = Dataset()
        current.ReferencedSeriesSequence = Sequence([item])
        current = item
    with pytest.raises(DeidError, match="nested deeper than 32"):
        deidentify_dataset(ds, plan, make_context(ds, secret=SECRET, plan=plan))


def test_a_dataset_built_in_memory_works_without_file_meta(deid_kernel: Any) -> None:
    from gantry_deid import encode_part10

    plan = compile_plan(deid_kernel)
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4.5"
    ds.PatientName, ds.StudyDate = "PHIMEMORY^NAME", "20240101"
    out = deidentify_dataset(ds, plan, make_context(ds, secret=SECRET, plan=plan))
    data = encode_part10(out)
    again = pydicom.dcmread(io.BytesIO(data))
    assert again.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert b"PHIMEMORY" not in data and again.StudyDate == ""
