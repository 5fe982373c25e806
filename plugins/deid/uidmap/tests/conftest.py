"""Fixtures for the gantry-uidmap tests (pytest runs with --import-mode=importlib, so helpers are
fixtures, not importable names).

- ``context(secret=..., namespace=..., backend=None)``: a DeidContext as the runner would build it;
- ``ui(keyword, value)``: a pydicom Dataset holding one element, and that element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydicom import Dataset
from pydicom.dataelem import DataElement

from gantry.deid import DeidContext

SECRET = b"site secret for the uidmap tests"


@pytest.fixture
def context() -> Callable[..., DeidContext]:
    def make(secret: bytes = SECRET, namespace: str = "", backend: Any = None) -> DeidContext:
        return DeidContext(sop_instance_uid="1.2.3.4", patient_key="PID-1", secret=secret,
                           settings={"uidmap": {"namespace": namespace}}, backend=backend)

    return make


@pytest.fixture
def ui() -> Callable[[str, Any], tuple[Dataset, DataElement]]:
    def make(keyword: str, value: Any) -> tuple[Dataset, DataElement]:
        dataset = Dataset()
        setattr(dataset, keyword, value)
        return dataset, dataset[keyword]

    return make
