"""Fixtures for the gantry-dateshift tests (pytest runs with --import-mode=importlib, so helpers
are fixtures, not importable names).

- ``context(patient_key=..., secret=..., backend=None, **settings)``: a DeidContext as the runner
  builds it, with ``settings`` as the ``[dateshift]`` section;
- ``dated(**keywords)``: a pydicom Dataset holding those attributes;
- ``shift(dataset, keyword, context)``: apply the action to one top-level element, return its value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydicom import Dataset

from gantry.deid import DeidContext
from gantry_dateshift.action import apply

SECRET = b"site secret for the dateshift tests"


@pytest.fixture
def context() -> Callable[..., DeidContext]:
    def make(patient_key: str = "PID-1", secret: bytes = SECRET, backend: Any = None,
             **settings: Any) -> DeidContext:
        return DeidContext(sop_instance_uid="1.2.3.4", patient_key=patient_key, secret=secret,
                           settings={"dateshift": settings}, backend=backend)

    return make


@pytest.fixture
def dated() -> Callable[..., Dataset]:
    def make(**keywords: Any) -> Dataset:
        dataset = Dataset()
        for keyword, value in keywords.items():
            setattr(dataset, keyword, value)
        return dataset

    return make


@pytest.fixture
def shift() -> Callable[[Dataset, str, DeidContext], Any]:
    def run(dataset: Dataset, keyword: str, context: DeidContext) -> Any:
        apply(dataset, dataset[keyword], context)
        return dataset[keyword].value

    return run
