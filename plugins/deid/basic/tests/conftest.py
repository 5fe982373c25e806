"""Fixtures for gantry-deid's tests. pytest runs with ``--import-mode=importlib``, so test modules
cannot import each other: shared helpers are the two modules below, loaded here under unique
names, and handed out as fixtures.

- ``stand_ins`` / ``doubles``: the TEST DOUBLES for U and shift (``deid_stand_ins.py``) as a
  plugin object / the module (its ``SHIFT_DAYS``);
- ``planting``: ``deid_planting.py`` (datasets with a planted value in every Table E.1-1 row);
- ``deid_kernel``: an isolated kernel holding part10, gantry-deid and the stand-ins;
- ``deidentify``: ``deidentify(dataset_or_path, tmp_path, options=(), **plan_options)`` writes
  the input (when given a dataset), runs ``deidentify_file`` and returns a ``Run``;
- ``ct_small``: the path of pydicom's CT_small.dcm.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pydicom
import pytest

import gantry_deid.plugin as deid_plugin
import gantry_part10.plugin as part10_plugin
from gantry.testing import kernel_with

SECRET = b"gantry-deid test secret"


def _load(file_name: str, module_name: str) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, Path(__file__).with_name(file_name))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # provider references name the module
    spec.loader.exec_module(module)
    return module


doubles_module = _load("deid_stand_ins.py", "gantry_deid_test_doubles")
planting_module = _load("deid_planting.py", "gantry_deid_test_planting")


@pytest.fixture(scope="session")
def doubles() -> Any:
    return doubles_module


@pytest.fixture(scope="session")
def stand_ins() -> Any:
    return doubles_module.StandIns()


@pytest.fixture(scope="session")
def planting() -> Any:
    return planting_module


@pytest.fixture(scope="session")
def deid_kernel(stand_ins: Any) -> Any:
    return kernel_with({"part10": part10_plugin, "deid": deid_plugin, "stand-ins": stand_ins})


@pytest.fixture(scope="session")
def ct_small() -> str:
    from pydicom.data import get_testdata_file

    return str(get_testdata_file("CT_small.dcm"))


@attrs.frozen
class Run:
    source: Path
    output: Path
    data: bytes
    """The output file's bytes."""
    source_bytes: bytes
    """The input file's bytes after the run."""
    dataset: Any
    """The output parsed by pydicom."""
    result: Any
    plan: Any

    @property
    def context(self) -> Any:
        return self.result.context


@pytest.fixture(scope="session")
def deidentify(deid_kernel: Any) -> Callable[..., Run]:
    from gantry_deid import compile_plan, deidentify_file, make_context

    def run(source: Any, folder: Path, options: Any = (), *, kernel: Any = None, name: str = "out.dcm",
            **plan_options: Any) -> Run:
        kernel = kernel or deid_kernel
        if not isinstance(source, (str, Path)):
            path = folder / f"in-{name}"
            source.save_as(path, enforce_file_format=True)
            source = path
        plan = compile_plan(kernel, options=options, **plan_options)
        output = folder / name
        result = deidentify_file(kernel, plan, source, output,
                                 lambda ds: make_context(ds, secret=SECRET, plan=plan))
        data = output.read_bytes()
        return Run(Path(source), output, data, Path(source).read_bytes(), pydicom.dcmread(output), result, plan)

    return run
