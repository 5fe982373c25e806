"""Fixtures for the gantry-redact tests (pytest runs with --import-mode=importlib, so helpers are
fixtures, not importable names).

- ``us_corpus``: the kernel's planted-PHI corpus (module scope): (folder, PhiCorpus);
- ``us_file``: the corpus ultrasound's path (text burned into BURNED_IN_ZONE, machine US_MACHINE);
- ``machine``: a machine table entry matching US_MACHINE with BURNED_IN_ZONE, as the YAML says it;
- ``context(kernel, machines=..., **section)``: a DeidContext as the runner builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gantry.deid import DeidContext
from gantry.testing.phi_corpus import BURNED_IN_ZONE, US_MACHINE, write_phi_corpus


@pytest.fixture(scope="module")
def us_corpus(tmp_path_factory: Any) -> Any:
    from gantry_deid.tables import table_e1_1

    folder = tmp_path_factory.mktemp("corpus")
    return folder, write_phi_corpus(folder, [row.tag_text for row in table_e1_1().rows], patients=1)


@pytest.fixture
def us_file(us_corpus: Any) -> str:
    return next(path for path in us_corpus[1].files if path.endswith("us.dcm"))


@pytest.fixture
def machine() -> dict[str, Any]:
    return {"match": {"Manufacturer": US_MACHINE["Manufacturer"].lower(), "ManufacturerModelName": "PHI-US-*",
                      "DeviceSerialNumber": US_MACHINE["DeviceSerialNumber"], "Rows": 64, "Columns": 128},
            "zones": [list(BURNED_IN_ZONE)]}


@pytest.fixture
def context() -> Callable[..., DeidContext]:
    def make(kernel: Any = None, machines: list[Any] | None = None, **section: Any) -> DeidContext:
        return DeidContext(sop_instance_uid="1.2.3.4", patient_key="PID-1", secret=b"secret",
                           settings={"redact": {"machines": machines or [], **section}}, kernel=kernel)

    return make
