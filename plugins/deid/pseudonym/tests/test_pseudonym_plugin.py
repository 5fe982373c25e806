"""The kernel finds the step through the entry point; the plan runs it after the attribute
actions; describing the plugin stays lean."""

from __future__ import annotations

import subprocess
import sys

from gantry_deid import compile_plan


def test_the_installed_kernel_offers_encrypt_originals_and_the_command(installed_kernel):
    offer = installed_kernel.active("deid-action", "encrypt-originals")
    assert offer.provider == "pseudonym-cms" and offer.plugin == "pseudonym"
    assert installed_kernel.settings("pseudonym") == {"key_file": "", "cert_file": ""}


def test_a_plan_asking_for_the_step_runs_it_after_the_attribute_actions(installed_kernel):
    plan = compile_plan(installed_kernel, "basic", steps=("encrypt-originals",))
    assert [step.provider for step in plan.steps_after] == ["pseudonym-cms"]
    assert plan.keep_originals and not plan.steps_before


def test_describing_the_plugin_imports_neither_pydicom_nor_cryptography():
    code = ("import sys, gantry_pseudonym.plugin as p; p.gantry_deid_actions(); p.gantry_settings(); "
            "print(sorted(m for m in ('pydicom', 'cryptography', 'gantry_pseudonym.action') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
