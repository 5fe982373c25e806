from __future__ import annotations

import pytest
from kernel_plugins import CALLS


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()
