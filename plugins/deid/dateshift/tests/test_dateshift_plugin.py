"""The kernel finds the shift action and checks its settings; the entry module is lean."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydicom import Dataset

import gantry_dateshift.plugin as dateshift_plugin
from gantry import ConfigError, PluginError
from gantry.deid import DeidContext


def test_the_installed_kernel_offers_the_shift_action(installed_kernel):
    offer = installed_kernel.active("deid-action", "shift")
    assert offer.provider == "dateshift-keyed" and offer.plugin == "dateshift"
    assert installed_kernel.settings("dateshift") == {
        "strategy": "keyed", "min_days": 30, "max_days": 3650, "epoch": "20000101"}


def test_settings_reach_the_action_through_the_kernel(make_kernel):
    kernel = make_kernel({"dateshift": dateshift_plugin}, config={"dateshift": {"strategy": "year-only"}})
    dataset = Dataset()
    dataset.StudyDate = "20200315"
    context = DeidContext(sop_instance_uid="1.2.3", patient_key="PID-1", secret=b"k",
                          settings={"dateshift": kernel.settings("dateshift")})
    kernel.call("deid-action", "shift", dataset, dataset["StudyDate"], context)
    assert dataset.StudyDate == "20200101"


@pytest.mark.parametrize(("section", "key"), [
    ({"strategy": "random"}, "dateshift.strategy"),
    ({"min_days": "30"}, "dateshift.min_days"),
    ({"unknown": 1}, "unknown"),
])
def test_a_wrong_setting_is_a_config_error(make_kernel, section, key):
    with pytest.raises(ConfigError, match=key):
        make_kernel({"dateshift": dateshift_plugin}, config={"dateshift": section})


@pytest.mark.parametrize(("section", "key"), [
    ({"min_days": 0}, "min_days"),
    ({"min_days": 100, "max_days": 99}, "max_days"),
    ({"max_days": 100000}, "max_days"),
    ({"epoch": "2000-01-01"}, "dateshift.epoch"),
    ({"epoch": "20000230"}, "dateshift.epoch"),
])
def test_settings_invalid_together_fail_the_plugin(make_kernel, section, key):
    kernel = make_kernel({"dateshift": dateshift_plugin}, config={"dateshift": section})
    record = kernel.records["dateshift"]
    assert record.status == "failed" and "ConfigError" in record.error and key in record.error
    assert kernel.active("deid-action", "shift") is None
    with pytest.raises(PluginError, match=key):
        make_kernel({"dateshift": dateshift_plugin},
                    config={"dateshift": section, "plugins": {"strict": True}})


def test_describing_the_plugin_imports_neither_pydicom_nor_the_action():
    code = ("import sys, gantry_dateshift.plugin as p; p.gantry_deid_actions(); p.gantry_settings(); "
            "print(sorted(m for m in ('pydicom', 'gantry_dateshift.action') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
