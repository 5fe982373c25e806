"""The kernel finds the U action through the entry point, with its settings; the entry module is lean."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydicom import Dataset

import gantry_uidmap.plugin as uidmap_plugin
from gantry import ConfigError
from gantry.deid import DeidContext
from gantry_uidmap import remap_uid

STUDY = "1.2.826.0.1.3680043.8.498.1"


def _run_through(kernel, secret: bytes) -> tuple[str, DeidContext]:
    dataset = Dataset()
    dataset.StudyInstanceUID = STUDY
    context = DeidContext(sop_instance_uid="1.2.3", patient_key="PID-1", secret=secret,
                          settings={"uidmap": kernel.settings("uidmap")})
    kernel.call("deid-action", "U", dataset, dataset["StudyInstanceUID"], context)
    return dataset.StudyInstanceUID, context


def test_the_installed_kernel_offers_the_u_action(installed_kernel):
    offer = installed_kernel.active("deid-action", "U")
    assert offer.provider == "uidmap-hmac" and offer.plugin == "uidmap"
    assert installed_kernel.settings("uidmap") == {"namespace": ""}


def test_two_kernels_with_one_secret_agree_and_another_secret_differs(installed_kernel, make_kernel):
    other_kernel = make_kernel({"uidmap": uidmap_plugin})
    first, context = _run_through(installed_kernel, b"shared")
    assert _run_through(other_kernel, b"shared")[0] == first == context.uid_pairs[STUDY]
    assert _run_through(other_kernel, b"not shared")[0] != first


def test_the_namespace_setting_reaches_the_action(make_kernel):
    kernel = make_kernel({"uidmap": uidmap_plugin}, config={"uidmap": {"namespace": "trial-7"}})
    assert _run_through(kernel, b"k")[0] == remap_uid(STUDY, b"k", "trial-7")


def test_a_wrong_setting_is_a_config_error(make_kernel):
    with pytest.raises(ConfigError, match="uidmap.namespace"):
        make_kernel({"uidmap": uidmap_plugin}, config={"uidmap": {"namespace": 7}})


def test_describing_the_plugin_imports_neither_pydicom_nor_the_action():
    code = ("import sys, gantry_uidmap.plugin as p; p.gantry_deid_actions(); "
            "print(sorted(m for m in ('pydicom', 'gantry_uidmap.action') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
