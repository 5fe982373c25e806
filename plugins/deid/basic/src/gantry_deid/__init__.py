"""gantry-deid: the de-identification engine and the PS3.15 Basic Application Level
Confidentiality Profile with its options.

    from gantry_deid import compile_plan, deidentify_dataset, deidentify_file, make_context

    plan = compile_plan(kernel, options={"retain-uids"}, overrides={"PatientName": ("D", "ANON^{patient_hash}")})
    result = deidentify_file(kernel, plan, "in.dcm", "out/1.dcm",
                             lambda ds: make_context(ds, secret=site_secret, plan=plan))

Importing this package is cheap (the kernel imports ``gantry_deid.plugin`` during discovery):
the API below is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

_LAZY = {
    "compile_plan": "gantry_deid.plan",
    "Plan": "gantry_deid.plan",
    "Rule": "gantry_deid.plan",
    "deidentify_dataset": "gantry_deid.engine",
    "deidentify_file": "gantry_deid.files",
    "DeidFileResult": "gantry_deid.files",
    "make_context": "gantry_deid.context",
    "encode_part10": "gantry_deid.encoder",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gantry_deid' has no attribute {name!r}")


if TYPE_CHECKING:
    from gantry_deid.context import make_context
    from gantry_deid.encoder import encode_part10
    from gantry_deid.engine import deidentify_dataset
    from gantry_deid.files import DeidFileResult, deidentify_file
    from gantry_deid.plan import Plan, Rule, compile_plan

__all__ = ["DeidFileResult", "Plan", "Rule", "compile_plan", "deidentify_dataset", "deidentify_file",
           "encode_part10", "make_context"]
